# scripts/kbuild.mk - shared by the Makefiles that build an out-of-tree
# kernel module against Debian's headers (dom0-rootfs/driver for keel.ko,
# tests/hostile for the hostile-guest test module). Set KDIR before
# including it; it sets KMAKE_F, the extra "-f <Makefile>" that make -C
# $(KDIR) needs when the headers were only unpacked: Debian's per-flavour
# headers directory has a one-line Makefile that includes the common tree
# by absolute path (/usr/src/linux-headers-<ver>-common); when that path
# does not exist, make is pointed at the sibling -common tree instead.

ifeq ($(wildcard $(KDIR)/Makefile),)
$(error KDIR=$(KDIR) has no Makefile; install or unpack linux-headers)
endif

KDIR_INCLUDE := $(shell sed -n 's/^include[[:space:]]\{1,\}\(\/[^[:space:]]*\)$$/\1/p' $(KDIR)/Makefile | head -n 1)
KMAKE_F :=
ifneq ($(KDIR_INCLUDE),)
ifeq ($(wildcard $(KDIR_INCLUDE)),)
KSRC_MAKEFILE := $(dir $(abspath $(KDIR)))$(notdir $(patsubst %/,%,$(dir $(KDIR_INCLUDE))))/Makefile
ifeq ($(wildcard $(KSRC_MAKEFILE)),)
$(error $(KDIR)/Makefile includes $(KDIR_INCLUDE), which is missing, and $(KSRC_MAKEFILE) is missing too)
endif
KMAKE_F := -f $(KSRC_MAKEFILE)
endif
endif
