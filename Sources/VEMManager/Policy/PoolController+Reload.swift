import VEMConfig
import VEMPolicy
import VEMPool

extension PoolController {
    /// Takes a reloaded configuration's groups, planner settings, migration URI and demand properties (nil), or
    /// says why not (nothing changed then): groups that cannot be used, or a group removed while it still has
    /// VMs in the pool.
    func reconfigure(
        groups: [GroupDefinition], policy: PolicyConfiguration, migrationURI: String, properties: [PropertyDefinition]
    ) -> String? {
        let poolGroups = groups.map(PoolGroup.init)
        if var reconciler {
            self.reconciler = nil  // the local copy is the only one: mutated in place, not copied
            defer { self.reconciler = reconciler }
            do { try reconciler.replaceGroups(poolGroups) } catch { return error.message }
        } else if !groups.isEmpty {
            do { reconciler = try Reconciler(groups: poolGroups, configuration: reconcilerConfiguration) } catch {
                return error.message
            }
            configurationError = nil
        }
        planner = Planner(configuration: policy)
        mapping.migrationURITemplate = migrationURI
        demandBox.withLock { $0 = PoolInputs.configured(properties) }
        decodedBatch = nil
        return nil
    }
}
