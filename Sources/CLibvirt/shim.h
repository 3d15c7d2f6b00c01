#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>

/* libxml2's generic error handler (libxml/xmlerror.h), declared here so that no libxml2 include path is needed.
 * libvirt parses XML with libxml2, whose default handler prints warnings such as
 * "I/O warning : failed to load external entity" straight to standard error; libvirt reports the same failure as
 * its own error, which VEM turns into a LibvirtError. */
typedef void (*vem_xml_generic_error_func)(void *ctx, const char *msg, ...);
void xmlSetGenericErrorFunc(void *ctx, vem_xml_generic_error_func handler);
void xmlThrDefSetGenericErrorFunc(void *ctx, vem_xml_generic_error_func handler);

static void vem_xml_discard(void *ctx, const char *msg, ...) {
    (void)ctx;
    (void)msg;
}

/* Silences libxml2's generic errors on the calling thread and on threads that first use libxml2 later. */
static inline void vem_silence_libxml2(void) {
    xmlThrDefSetGenericErrorFunc(NULL, vem_xml_discard);
    xmlSetGenericErrorFunc(NULL, vem_xml_discard);
}
