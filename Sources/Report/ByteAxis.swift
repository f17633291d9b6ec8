/// A byte axis from zero with round tick values in one binary unit (`0, 10 MiB, 20 MiB, ...`), so that a
/// reader compares heights by grid lines instead of by reading numbers.
struct ByteAxis: Sendable, Hashable {
    /// The top of the axis, in bytes: the first tick at or above the largest value plotted.
    let top: Double
    /// Tick values in bytes, from 0 to `top`.
    let ticks: [Double]
    /// The unit the labels use: its size in bytes and its name.
    let unitBytes: Double
    let unitName: String

    /// An axis covering `0...maximum` with about `count` ticks.
    init(maximum: Double, count: Int = 6) {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        let largest = max(maximum, 1)
        var unit = 0
        var size = 1.0
        while largest >= size * 1024 && unit < units.count - 1 {
            size *= 1024
            unit += 1
        }
        unitBytes = size
        unitName = units[unit]
        let step = Self.niceStep(largest / size / Double(max(count, 1)), integral: unit == 0)
        var ticks: [Double] = [0]
        var value = 0.0
        while value * size < largest {
            value += step
            ticks.append(value * size)
        }
        self.ticks = ticks
        top = ticks.last ?? largest
    }

    /// The tick label: `0`, `512 KiB`, `2.5 MiB`.
    func label(_ bytes: Double) -> String {
        if bytes == 0 { return "0" }
        let value = bytes / unitBytes
        let rounded = (value * 100).rounded() / 100
        var text = String(rounded)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text + " " + unitName
    }

    /// 1, 2, 2.5 or 5 times a power of ten, at least `raw` (whole numbers for bytes).
    static func niceStep(_ raw: Double, integral: Bool) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        for factor in [1.0, 2.0, 2.5, 5.0, 10.0] {
            let step = factor * power
            if step >= raw && (!integral || step == step.rounded()) { return step }
        }
        return 10 * power
    }
}
