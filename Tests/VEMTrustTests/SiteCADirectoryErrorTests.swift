import Testing
import VEMTrust

/// A CA directory that cannot be created is named with the C library's reason, not a dump of the error
/// (FoundationEssentials, which `VEMTrust` imports, has no `localizedDescription`).
@Suite struct SiteCADirectoryErrorTests {
    @Test func aDirectoryUnderAFileSaysNotADirectory() {
        #expect {
            try SiteCADirectory(path: "/dev/null/ca").initialize()
        } throws: { error in
            (error as? TrustError)?.description == "cannot create /dev/null/ca: Not a directory"
        }
    }
}
