import Crypto
import Foundation

/// SHA-256 for the run directory's `SHA256SUMS`, as lowercase hex.
///
/// The digest itself is swift-crypto's; these helpers only spell it the way `sha256sum` prints it, so
/// `sha256sum -c SHA256SUMS` checks the same file a bundle's verifier recomputes. Large files are hashed by
/// feeding ``SHA256/update(data:)`` one chunk at a time: memory stays bounded by the chunk, not the file.
extension SHA256 {
    /// The digest of `bytes`, as 64 lowercase hex digits.
    public static func hex(_ bytes: some DataProtocol) -> String {
        hash(data: bytes).hex
    }

    /// The digest of everything added so far, as 64 lowercase hex digits.
    public consuming func hexDigest() -> String {
        finalize().hex
    }
}

extension SHA256.Digest {
    /// The digest as 64 lowercase hex digits, the form `sha256sum` prints.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(2 * Self.byteCount)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The text of a `SHA256SUMS` file: `<digest>  <path>` per file, sorted by path, as `sha256sum` writes.
public enum Checksums {
    /// One line per (path, digest) pair, sorted by path.
    public static func text(_ entries: [(path: String, digest: String)]) -> String {
        entries.sorted { $0.path < $1.path }.map { "\($0.digest)  \($0.path)\n" }.joined()
    }
}
