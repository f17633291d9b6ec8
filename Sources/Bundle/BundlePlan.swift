import Plan
import RunRecord

/// The plan of a bundle, self-contained: `sql_file:` steps take their statements from the manifest,
/// which recorded them as run, since the files themselves are not in the bundle.
public enum BundlePlan {
    /// Loads plan.yaml and resolves every `sql_file:` step from the manifest's step of the same label.
    ///
    /// - Parameter file: how errors name the bundle.
    public static func load(yaml: String, manifest: RunManifest, file: String) throws(BundleError) -> Plan {
        var plan: Plan
        do {
            plan = try Plan.load(yaml: yaml, fileName: RunLayout.planFile)
        } catch {
            throw .planUnreadable(file: file, messages: error.errors.map(\.description))
        }
        for index in plan.steps.indices {
            guard case .sqlFile(let sqlFile) = plan.steps[index].kind else { continue }
            let label = plan.steps[index].label
            // A replayed sql_file resolves only inside the bundle: never an absolute path or one that climbs.
            if sqlFile.path.hasPrefix("/") || sqlFile.path.split(separator: "/").contains("..") {
                throw .sqlFileOutsideBundle(path: sqlFile.path, step: label)
            }
            let record = manifest.steps.first { $0.label == label && $0.file == sqlFile.path }
            guard let statements = record?.sql else { throw .sqlFileNotRecorded(path: sqlFile.path) }
            plan.steps[index].kind = .sqlFile(Plan.SQLFile(path: sqlFile.path, statements: statements))
        }
        return plan
    }
}
