// The NATS C client (Debian: libnats-dev 3.4.x). `<nats/nats.h>`, not the deprecated `<nats.h>`.
#include <nats/nats.h>
