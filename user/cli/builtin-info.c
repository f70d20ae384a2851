// SPDX-License-Identifier: GPL-2.0
/* kvmdbg-launch --info: what the host's KVM offers and how we stop it. */
#include <stdio.h>

#include "user/cli/builtin.h"
#include "user/vmm/kvmdbg_mod.h"
#include "user/vmm/vm.h"

int cmd_info(int argc, char **argv)
{
	char err[256];

	(void)argv;
	if (argc > 1) {
		cli_error("--info takes no arguments");
		return EXIT_USAGE;
	}
	if (kvmdbg_mod__setup_process(false, err, sizeof(err)) ||
	    vm__kvm_print_info(stdout, err, sizeof(err)) < 0) {
		cli_error("%s", err);
		return EXIT_SETUP;
	}
	printf("guest layout:    [0, %#llx) reserved (page tables, GDT, stacks) for up to 128 vCPUs; load images above it\n",
	       (unsigned long long)VM_RESERVED_END);
	return 0;
}
