/*
 * Unit tests for hypervisor/devices/pci_host.c: Linux's conf1 detection
 * (pci_check_type1 and pci_sanity_check in arch/x86/pci/direct.c, done
 * here as the same port accesses), CONFIG_ADDRESS latching rules, the
 * host bridge's IDs and class through byte, word and dword reads at every
 * offset, its few writable bits, absent functions, other buses, the
 * disabled address, unaligned and extended accesses, and a registered
 * extra function with its callbacks and the registry's error cases.
 */
#include "../../hypervisor/devices/pci_host.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

#define CF8 0xCF8
#define CFC 0xCFC

static uint32_t conf1_addr(uint32_t bus, uint32_t dev, uint32_t fn,
			   uint32_t reg)
{
	return 0x80000000u | ((reg & 0xF00u) << 16) | (bus << 16) |
	       (dev << 11) | (fn << 8) | (reg & 0xFCu);
}

/* A configuration read as Linux's pci_conf1_read does it. */
static uint32_t cfg_read(struct pci_host *h, uint32_t bus, uint32_t dev,
			 uint32_t fn, uint32_t reg, uint8_t size)
{
	pci_host_write(h, CF8, 4, conf1_addr(bus, dev, fn, reg));
	switch (size) {
	case 1:
		return pci_host_read(h, (uint16_t)(CFC + (reg & 3)), 1);
	case 2:
		return pci_host_read(h, (uint16_t)(CFC + (reg & 2)), 2);
	default:
		return pci_host_read(h, CFC, 4);
	}
}

static void cfg_write(struct pci_host *h, uint32_t dev, uint32_t fn,
		      uint32_t reg, uint8_t size, uint32_t v)
{
	pci_host_write(h, CF8, 4, conf1_addr(0, dev, fn, reg));
	pci_host_write(h, (uint16_t)(CFC + (reg & (4u - size))), size, v);
}

/* The bridge's expected configuration bytes. */
static uint8_t bridge_byte(uint32_t off)
{
	static const uint8_t head[16] = { 0x36, 0x1B, 0x08, 0x00, 0, 0, 0, 0,
					  0x00, 0x00, 0x00, 0x06, 0, 0, 0, 0 };

	return off < 16 ? head[off] : 0;
}

static void test_handles(void)
{
	CHECK(!pci_host_handles(0xCF7));
	for (uint16_t p = 0xCF8; p <= 0xCFF; p++)
		CHECK(pci_host_handles(p));
	CHECK(!pci_host_handles(0xD00));
	CHECK(!pci_host_handles(0x3F8));
}

/* pci_check_type1 and pci_sanity_check from arch/x86/pci/direct.c. */
static void test_linux_conf1_check(void)
{
	struct pci_host h;
	uint32_t tmp;
	bool found = false;

	pci_host_init(&h);
	pci_host_write(&h, 0xCFB, 1, 0x01);
	tmp = pci_host_read(&h, CF8, 4);
	pci_host_write(&h, CF8, 4, 0x80000000u);
	CHECK_EQ_U64(pci_host_read(&h, CF8, 4), 0x80000000u);
	/* Sanity check: some devfn on bus 0 is a host bridge (class 0x0600,
	 * word read at 0x0A) or has Intel's or Compaq's vendor ID. */
	for (uint32_t devfn = 0; devfn < 0x100 && !found; devfn++) {
		uint32_t x = cfg_read(&h, 0, devfn >> 3, devfn & 7, 0x0A, 2);

		if (x == 0x0600 || x == 0x0300)
			found = true;
	}
	CHECK(found);
	pci_host_write(&h, CF8, 4, tmp);
	CHECK_EQ_U64(pci_host_read(&h, CF8, 4), tmp);
	CHECK_EQ_U64(tmp, 0); /* the byte write to 0xCFB did not touch it */
}

static void test_address_register(void)
{
	struct pci_host h;

	pci_host_init(&h);
	CHECK_EQ_U64(pci_host_read(&h, CF8, 4), 0);
	pci_host_write(&h, CF8, 4, 0xFFFFFFFFu);
	/* Bits 30:28 and 1:0 read as 0; 27:24 are AMD's register bits 11:8. */
	CHECK_EQ_U64(pci_host_read(&h, CF8, 4), 0x8FFFFFFCu);
	pci_host_write(&h, CF8, 4, 0x80001234u);
	/* Byte and word accesses do not change CONFIG_ADDRESS. */
	for (uint16_t p = CF8; p < CF8 + 4; p++) {
		pci_host_write(&h, p, 1, 0);
		CHECK_EQ_U64(pci_host_read(&h, p, 1), 0xFF);
	}
	pci_host_write(&h, CF8, 2, 0);
	pci_host_write(&h, 0xCFA, 2, 0);
	CHECK_EQ_U64(pci_host_read(&h, CF8, 2), 0xFFFF);
	CHECK_EQ_U64(pci_host_read(&h, CF8, 4), 0x80001234u);
	/* A dword access at 0xCF9..0xCFB is not CONFIG_ADDRESS either. */
	pci_host_write(&h, 0xCF9, 4, 0);
	CHECK_EQ_U64(pci_host_read(&h, 0xCF9, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(pci_host_read(&h, CF8, 4), 0x80001234u);
	/* Ports outside the window read all-ones. */
	CHECK_EQ_U64(pci_host_read(&h, 0x80, 1), 0xFF);
	/* A bad size reads all-ones. */
	pci_host_write(&h, CF8, 4, conf1_addr(0, 0, 0, 0));
	CHECK_EQ_U64(pci_host_read(&h, CFC, 3), 0xFFFFFFFFu);
}

static void test_bridge_reads(void)
{
	struct pci_host h;
	uint32_t bad = 0;

	pci_host_init(&h);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x00, 4), 0x00081B36u);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x00, 2), 0x1B36u);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x02, 2), 0x0008u);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x08, 4), 0x06000000u);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x0A, 2), 0x0600u);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x0B, 1), 0x06u);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x0E, 1), 0x00u);
	/* Every offset, every size, against the expected bytes. */
	for (uint32_t reg = 0; reg < 256; reg++) {
		for (uint8_t size = 1; size <= 4; size <<= 1) {
			uint32_t want = 0;

			if (reg & (size - 1u))
				continue;
			for (uint32_t i = 0; i < size; i++)
				want |= (uint32_t)bridge_byte(reg + i) << (8 * i);
			if (cfg_read(&h, 0, 0, 0, reg, size) != want)
				bad++;
		}
	}
	CHECK_EQ_U64(bad, 0);
}

static void test_bridge_writes(void)
{
	struct pci_host h;

	pci_host_init(&h);
	/* Read-only IDs and class. */
	cfg_write(&h, 0, 0, 0x00, 4, 0xFFFFFFFFu);
	cfg_write(&h, 0, 0, 0x08, 4, 0xFFFFFFFFu);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x00, 4), 0x00081B36u);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x08, 4), 0x06000000u);
	/* Command: I/O, memory and bus master only; status stays 0. */
	cfg_write(&h, 0, 0, 0x04, 4, 0xFFFFFFFFu);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x04, 4), 0x00000007u);
	cfg_write(&h, 0, 0, 0x04, 2, 0x0002);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x04, 2), 0x0002u);
	cfg_write(&h, 0, 0, 0x04, 1, 0x05);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x04, 1), 0x05u);
	/* BAR sizing finds no BARs. */
	cfg_write(&h, 0, 0, 0x10, 4, 0xFFFFFFFFu);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x10, 4), 0);
	/* Interrupt line is a scratch byte; interrupt pin stays 0. */
	cfg_write(&h, 0, 0, 0x3C, 2, 0xFF0B);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x3C, 4), 0x0000000Bu);
	/* Reinit restores the reset values. */
	pci_host_init(&h);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x04, 4), 0);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x3C, 1), 0);
}

static void test_absent(void)
{
	struct pci_host h;
	uint32_t bad = 0;

	pci_host_init(&h);
	for (uint32_t devfn = 1; devfn < 256; devfn++) {
		if (cfg_read(&h, 0, devfn >> 3, devfn & 7, 0, 4) != 0xFFFFFFFFu)
			bad++;
		if (cfg_read(&h, 0, devfn >> 3, devfn & 7, 0x0A, 2) != 0xFFFF)
			bad++;
		if (cfg_read(&h, 0, devfn >> 3, devfn & 7, 0x0E, 1) != 0xFF)
			bad++;
	}
	CHECK_EQ_U64(bad, 0);
	/* Other buses, even device 0 there. */
	CHECK_EQ_U64(cfg_read(&h, 1, 0, 0, 0, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(cfg_read(&h, 255, 0, 0, 0, 2), 0xFFFFu);
	/* Writes to absent functions are dropped without harm. */
	cfg_write(&h, 5, 0, 0x04, 4, 0x7);
	CHECK_EQ_U64(cfg_read(&h, 0, 5, 0, 0x04, 4), 0xFFFFFFFFu);
}

static void test_disabled_address(void)
{
	struct pci_host h;

	pci_host_init(&h);
	pci_host_write(&h, CF8, 4, 0x00000000u); /* bit 31 clear */
	CHECK_EQ_U64(pci_host_read(&h, CFC, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(pci_host_read(&h, CFC, 2), 0xFFFFu);
	CHECK_EQ_U64(pci_host_read(&h, 0xCFE, 1), 0xFFu);
	pci_host_write(&h, CF8, 4, 0x00000004u);
	pci_host_write(&h, CFC, 4, 0x7); /* not a config write */
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x04, 4), 0);
}

static void test_odd_accesses(void)
{
	struct pci_host h;

	pci_host_init(&h);
	pci_host_write(&h, CF8, 4, conf1_addr(0, 0, 0, 0));
	/* Not naturally aligned in the data window. */
	CHECK_EQ_U64(pci_host_read(&h, 0xCFD, 2), 0xFFFFu);
	CHECK_EQ_U64(pci_host_read(&h, 0xCFF, 2), 0xFFFFu);
	CHECK_EQ_U64(pci_host_read(&h, 0xCFE, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(pci_host_read(&h, 0xCFD, 1), 0x1Bu);
	/* Extended register bits: no extended space, no aliasing. */
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x100, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0xF00, 2), 0xFFFFu);
	cfg_write(&h, 0, 0, 0x104, 4, 0x7);
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x04, 4), 0);
}

/* A fake function: 256 bytes of config space plus an access log. */
struct fake_fn {
	uint8_t cfg[256];
	uint32_t reads, writes;
	uint32_t last_reg, last_size, last_value;
};

static uint32_t fake_read(void *ctx, uint32_t reg, uint32_t size)
{
	struct fake_fn *f = ctx;
	uint32_t v = 0;

	f->reads++;
	f->last_reg = reg;
	f->last_size = size;
	for (uint32_t i = 0; i < size; i++)
		v |= (uint32_t)f->cfg[reg + i] << (8 * i);
	/* Junk above the access size: the host must mask it off. */
	return size < 4 ? v | 0xAB000000u : v;
}

static void fake_write(void *ctx, uint32_t reg, uint32_t size, uint32_t value)
{
	struct fake_fn *f = ctx;

	f->writes++;
	f->last_reg = reg;
	f->last_size = size;
	f->last_value = value;
	for (uint32_t i = 0; i < size; i++)
		f->cfg[reg + i] = (uint8_t)(value >> (8 * i));
}

static void test_registered_function(void)
{
	struct pci_host h;
	struct fake_fn fake;
	struct pci_func f = { 3, 0, fake_read, fake_write, &fake };

	memset(&fake, 0, sizeof(fake));
	fake.cfg[0] = 0xF4; /* 1AF4:1001, a legacy virtio block device */
	fake.cfg[1] = 0x1A;
	fake.cfg[2] = 0x01;
	fake.cfg[3] = 0x10;
	pci_host_init(&h);
	CHECK_EQ_INT(pci_host_add(&h, &f), 0);
	CHECK_EQ_U64(cfg_read(&h, 0, 3, 0, 0x00, 4), 0x10011AF4u);
	CHECK_EQ_U64(fake.last_reg, 0);
	CHECK_EQ_U64(fake.last_size, 4);
	CHECK_EQ_U64(cfg_read(&h, 0, 3, 0, 0x02, 2), 0x1001u);
	CHECK_EQ_U64(fake.last_reg, 2);
	CHECK_EQ_U64(fake.last_size, 2);
	CHECK_EQ_U64(cfg_read(&h, 0, 3, 0, 0x01, 1), 0x1Au);
	CHECK_EQ_U64(fake.last_reg, 1);
	cfg_write(&h, 3, 0, 0x3D, 1, 0x01);
	CHECK_EQ_U64(fake.last_reg, 0x3D);
	CHECK_EQ_U64(fake.last_size, 1);
	CHECK_EQ_U64(fake.last_value, 0x01);
	cfg_write(&h, 3, 0, 0x10, 4, 0xC001u);
	CHECK_EQ_U64(cfg_read(&h, 0, 3, 0, 0x10, 4), 0x0000C001u);
	/* Neighbours stay absent; other buses never reach the callback. */
	uint32_t reads = fake.reads, writes = fake.writes;
	CHECK_EQ_U64(cfg_read(&h, 0, 3, 1, 0, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(cfg_read(&h, 0, 4, 0, 0, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(cfg_read(&h, 1, 3, 0, 0, 4), 0xFFFFFFFFu);
	CHECK_EQ_U64(cfg_read(&h, 0, 3, 0, 0x100, 4), 0xFFFFFFFFu);
	pci_host_write(&h, CF8, 4, conf1_addr(0, 3, 0, 0) & ~0x80000000u);
	pci_host_write(&h, CFC, 4, 0);
	CHECK_EQ_U64(fake.reads, reads);
	CHECK_EQ_U64(fake.writes, writes);
	/* The bridge is unaffected. */
	CHECK_EQ_U64(cfg_read(&h, 0, 0, 0, 0x00, 4), 0x00081B36u);

	/* Registry errors. */
	CHECK_EQ_INT(pci_host_add(&h, &f), -EEXIST);
	struct pci_func bad = f;
	bad.dev = 0;
	CHECK_EQ_INT(pci_host_add(&h, &bad), -EEXIST); /* the host bridge */
	bad.fn = 1;
	CHECK_EQ_INT(pci_host_add(&h, &bad), 0);       /* 00:00.1 is free */
	bad = f;
	bad.dev = 32;
	CHECK_EQ_INT(pci_host_add(&h, &bad), -EINVAL);
	bad = f;
	bad.fn = 8;
	CHECK_EQ_INT(pci_host_add(&h, &bad), -EINVAL);
	bad = f;
	bad.dev = 9;
	bad.cfg_read = NULL;
	CHECK_EQ_INT(pci_host_add(&h, &bad), -EINVAL);
	bad = f;
	bad.dev = 9;
	bad.cfg_write = NULL;
	CHECK_EQ_INT(pci_host_add(&h, &bad), -EINVAL);
	int rc = 0;
	uint32_t added = 2;
	for (uint32_t d = 4; d <= 31 && rc == 0; d++) {
		for (uint32_t fn = 0; fn < 8 && rc == 0; fn++) {
			bad = f;
			bad.dev = (uint8_t)d;
			bad.fn = (uint8_t)fn;
			rc = pci_host_add(&h, &bad);
			if (rc == 0)
				added++;
		}
	}
	CHECK_EQ_INT(rc, -ENOSPC);
	CHECK_EQ_U64(added, PCI_HOST_MAX_FUNCS);
}

int main(void)
{
	test_handles();
	test_linux_conf1_check();
	test_address_register();
	test_bridge_reads();
	test_bridge_writes();
	test_absent();
	test_disabled_address();
	test_odd_accesses();
	test_registered_function();
	return harness_done("test_pci_host");
}
