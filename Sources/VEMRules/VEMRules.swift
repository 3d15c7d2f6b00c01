// The trigger language lives here (see docs/ARCHITECTURE.md).
