# scripts/out-dir.mk - shared by the Makefiles that build into a separate
# directory (toolstack, dom0-rootfs/driver, tests/hostile): OUT, where the
# products go, must be given and absolute (kbuild and the dependency
# files need it so).
ifeq ($(OUT),)
$(error OUT=<absolute build dir> is required)
endif
ifneq ($(patsubst /%,/,$(OUT)),/)
$(error OUT must be an absolute path (got '$(OUT)'))
endif
