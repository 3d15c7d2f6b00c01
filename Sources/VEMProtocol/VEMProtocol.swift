// Wire messages and the reliable command stream live here (see docs/ARCHITECTURE.md).
