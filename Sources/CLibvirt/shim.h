#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
