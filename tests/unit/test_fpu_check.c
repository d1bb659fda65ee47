/*
 * Unit tests for hypervisor/arch/x86/fpu_check.c: the checks that keep a
 * saved guest's FPU area and XCR0 (from a file, through dom0) from making
 * XRSTOR, FXRSTOR or XSETBV fault in the hypervisor. Each rule of the SDM
 * that the checks encode is broken once and must be refused; a real
 * area's layout (an initial state, a live AVX state) must be accepted.
 */
#include "../../hypervisor/arch/x86/fpu_check.c"

#include <stdio.h>
#include <string.h>

#include "harness.h"

#define HOST_XCR0 0x2E7ull   /* x87 SSE AVX AVX-512 (3 bits) PKRU */
#define AREA_BYTES 2696u
#define MASK 0xFFFFu

static void put32(uint8_t *a, uint32_t off, uint32_t v)
{
	memcpy(a + off, &v, sizeof(v));
}

static void put64(uint8_t *a, uint32_t off, uint64_t v)
{
	memcpy(a + off, &v, sizeof(v));
}

static void test_xcr0(void)
{
	CHECK(fpu_xcr0_ok(0x1, HOST_XCR0));
	CHECK(fpu_xcr0_ok(0x3, HOST_XCR0));
	CHECK(fpu_xcr0_ok(0x7, HOST_XCR0));
	CHECK(fpu_xcr0_ok(0xE7, HOST_XCR0));
	CHECK(fpu_xcr0_ok(0x2E7, HOST_XCR0));
	CHECK(!fpu_xcr0_ok(0x0, HOST_XCR0));   /* x87 off */
	CHECK(!fpu_xcr0_ok(0x2, HOST_XCR0));
	CHECK(!fpu_xcr0_ok(0x5, HOST_XCR0));   /* AVX without SSE */
	CHECK(!fpu_xcr0_ok(0x67, HOST_XCR0));  /* two of the AVX-512 bits */
	CHECK(!fpu_xcr0_ok(0xE3, HOST_XCR0));  /* AVX-512 without AVX */
	CHECK(fpu_xcr0_ok(0x1F, 0x1Full));     /* MPX fine as a pair... */
	CHECK(!fpu_xcr0_ok(0xF, 0x1Full));     /* ...but not alone */
	CHECK(!fpu_xcr0_ok(0x8, 0x1Full));
	CHECK(!fpu_xcr0_ok(0x20007, 0x60007ull)); /* one AMX bit */
	CHECK(fpu_xcr0_ok(0x60007, 0x60007ull));
	CHECK(!fpu_xcr0_ok(0x1 | (1ull << 9), 0x7)); /* a component the CPU lacks */
	CHECK(!fpu_xcr0_ok(1ull << 63 | 1, HOST_XCR0));
}

static void init_area(uint8_t *a)
{
	memset(a, 0, AREA_BYTES);
	a[0] = 0x7F, a[1] = 0x03;              /* FCW */
	put32(a, 24, 0x1F80);                   /* MXCSR */
	put64(a, 512, 0x7);                     /* XSTATE_BV: x87, SSE, AVX */
}

static void test_area(void)
{
	static uint8_t a[AREA_BYTES];

	init_area(a);
	CHECK(fpu_area_ok(a, AREA_BYTES, true, HOST_XCR0, MASK));
	CHECK(fpu_area_ok(a, AREA_BYTES, false, 0, MASK));
	put32(a, 24, 0x1F80 | (1u << 16));      /* a reserved MXCSR bit */
	CHECK(!fpu_area_ok(a, AREA_BYTES, true, HOST_XCR0, MASK));
	CHECK(!fpu_area_ok(a, AREA_BYTES, false, 0, MASK));
	init_area(a);
	put32(a, 24, 0x1FC0);                   /* DAZ on a CPU without it */
	CHECK(!fpu_area_ok(a, AREA_BYTES, true, HOST_XCR0, 0xFFBF));
	CHECK(fpu_area_ok(a, AREA_BYTES, true, HOST_XCR0, MASK));
	init_area(a);
	put64(a, 512, 0x7 | (1ull << 3));       /* XSTATE_BV beyond rfbm */
	CHECK(!fpu_area_ok(a, AREA_BYTES, true, HOST_XCR0, MASK));
	CHECK(fpu_area_ok(a, AREA_BYTES, false, 0, MASK)); /* FXRSTOR ignores it */
	init_area(a);
	put64(a, 520, 1ull << 63);              /* compacted form */
	CHECK(!fpu_area_ok(a, AREA_BYTES, true, HOST_XCR0, MASK));
	init_area(a);
	a[512 + 63] = 1;                        /* last reserved header byte */
	CHECK(!fpu_area_ok(a, AREA_BYTES, true, HOST_XCR0, MASK));
	init_area(a);
	a[512 + 64] = 0xFF;                     /* component data: anything */
	a[100] = 0xFF;
	CHECK(fpu_area_ok(a, AREA_BYTES, true, HOST_XCR0, MASK));
	CHECK(!fpu_area_ok(a, 512 + 63, true, HOST_XCR0, MASK)); /* too short */
	CHECK(!fpu_area_ok(a, 511, false, 0, MASK));
}

int main(void)
{
	test_xcr0();
	test_area();
	return harness_done("test_fpu_check");
}
