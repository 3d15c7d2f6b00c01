import GRDB

extension Journal {
    /// The inventory's migrations: `v3` keeps each VM's creation time (`created_at`), so a restarted Manager
    /// takes back how old its VMs are instead of the time of the last journal write.
    static func registerInventoryMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v3") { db in
            try db.execute(sql: "ALTER TABLE vm_inventory ADD COLUMN created_at REAL")
        }
    }

    /// Replaces VEM's VM inventory (written by `policy.rebalance()` after each change of the pool).
    public func replaceInventory(_ records: [InventoryRecord]) async throws(ManagerError) {
        try await write("write the inventory") { db in
            try db.execute(sql: "DELETE FROM vm_inventory")
            for r in records {
                try db.execute(
                    sql: """
                        INSERT INTO vm_inventory (name, grp, host, state, updated_at, created_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [r.name, r.group, r.host, r.state, r.updatedAt, r.createdAt])
            }
        }
    }

    /// VEM's VM inventory (empty until the policy layer writes it).
    public func inventory() async throws(ManagerError) -> [InventoryRecord] {
        try await read("read the inventory") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM vm_inventory ORDER BY name").map {
                InventoryRecord(
                    name: $0["name"], group: $0["grp"], host: $0["host"], state: $0["state"],
                    updatedAt: $0["updated_at"], createdAt: $0["created_at"])
            }
        }
    }
}
