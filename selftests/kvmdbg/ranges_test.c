// SPDX-License-Identifier: GPL-2.0
/*
 * KVMDBG_SNAPSHOT guest ranges: by guest-physical and guest-virtual
 * address, across 4 KiB pages, through 2 MiB pages and a non-identity
 * mapping; unmapped ranges (-EFAULT and the failing index), limits
 * (-E2BIG) and argument checks (-EINVAL). See kvmdbg_util.h for the
 * guest's layout.
 */
#include "kselftest_harness.h"
#include "kvmdbg_util.h"

FIXTURE(ranges) {
	int dev;
	int s;
	struct vm vm;
	struct kvmdbg_vcpu_state st[2];
	struct kvmdbg_snapshot snap;
	uint8_t buf[4][0x3000];
};

FIXTURE_SETUP(ranges)
{
	size_t i;

	self->s = -1;
	REQUIRE_KVMDBG(self->dev);
	ASSERT_EQ(0, install_kick_handler());
	ASSERT_EQ(0, vm_create(&self->vm, 2));
	/* A pattern from 1 MiB to 4 MiB that differs in every 8 bytes. */
	for (i = 0x100000; i < GUEST_MEM; i += 8)
		*(uint64_t *)gpa(&self->vm, i) = i * 0x9e3779b97f4a7c15ULL;
	self->s = session_open(self->dev, &self->vm);
	ASSERT_LE(0, self->s) TH_LOG("attach: %s", strerror(errno));
	ASSERT_EQ(0, vm_start(&self->vm));
}

FIXTURE_TEARDOWN(ranges)
{
	vm_stop(&self->vm);
	if (self->s >= 0)
		close(self->s);
	vm_destroy(&self->vm);
	if (self->dev >= 0)
		close(self->dev);
}

static struct kvmdbg_range range(uint32_t flags, uint64_t addr, uint64_t len,
				 void *buf)
{
	return (struct kvmdbg_range){ .flags = flags, .vcpu_id = 1,
		.addr = addr, .len = len, .buf = (uintptr_t)buf };
}

#define TAKE(self, rg, n)						\
	snapshot((self)->s, &(self)->snap, (self)->st, 2, rg, n)

TEST_F(ranges, gpa_across_pages)
{
	struct kvmdbg_range rg[2] = {
		range(KVMDBG_RANGE_GPA, 0x100ff0, 0x2020, self->buf[0]),
		range(KVMDBG_RANGE_GPA, COUNTER_GPA(0), 16, self->buf[1]),
	};

	ASSERT_EQ(0, TAKE(self, rg, 2)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(KVMDBG_NO_RANGE, self->snap.failed_range);
	EXPECT_EQ(0, memcmp(self->buf[0], gpa(&self->vm, 0x100ff0), 0x2020));
	/* Memory and registers agree (the counter loop). */
	EXPECT_TRUE(counter_consistent(&self->st[0], *(uint64_t *)self->buf[1]));
}

TEST_F(ranges, gva_identity_and_2m)
{
	struct kvmdbg_range rg[2] = {
		/* 4 KiB pages, identity. */
		range(KVMDBG_RANGE_GVA, 0x180ff8, 0x1010, self->buf[0]),
		/* Inside the identity 2 MiB page, across 4 KiB boundaries. */
		range(KVMDBG_RANGE_GVA, 0x2ffff0, 0x2010, self->buf[1]),
	};

	ASSERT_EQ(0, TAKE(self, rg, 2)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(self->buf[0], gpa(&self->vm, 0x180ff8), 0x1010));
	EXPECT_EQ(0, memcmp(self->buf[1], gpa(&self->vm, 0x2ffff0), 0x2010));
}

/* GVA != GPA: a 4 KiB page moved elsewhere, then a 2 MiB page. */
TEST_F(ranges, gva_translated)
{
	struct kvmdbg_range rg[2] = {
		range(KVMDBG_RANGE_GVA, REMAP_GVA + 0x800, 0x1000, self->buf[0]),
		range(KVMDBG_RANGE_GVA, BIG_GVA + 0x1ff00, 0x200, self->buf[1]),
	};

	ASSERT_EQ(0, TAKE(self, rg, 2)) TH_LOG("%s, range %u", strerror(errno),
					      self->snap.failed_range);
	/* GVA 0x1ff800.. is GPA 0x300800..; GVA 0x200000.. is identity. */
	EXPECT_EQ(0, memcmp(self->buf[0], gpa(&self->vm, REMAP_GPA + 0x800), 0x800));
	EXPECT_EQ(0, memcmp(self->buf[0] + 0x800, gpa(&self->vm, BIG_GPA), 0x800));
	/* GVA 1 GiB + x is GPA 2 MiB + x. */
	EXPECT_EQ(0, memcmp(self->buf[1], gpa(&self->vm, BIG_GPA + 0x1ff00), 0x200));
}

TEST_F(ranges, unmapped_gva)
{
	struct kvmdbg_range rg[3] = {
		range(KVMDBG_RANGE_GPA, 0x100000, 8, self->buf[0]),
		range(KVMDBG_RANGE_GVA, UNMAPPED_GVA - 8, 16, self->buf[1]),
		range(KVMDBG_RANGE_GPA, 0x100000, 8, self->buf[2]),
	};

	EXPECT_EQ(-1, TAKE(self, rg, 3));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, self->snap.failed_range);
	EXPECT_EQ(2, self->snap.nr_vcpus);
	EXPECT_EQ(0, memcmp(self->buf[0], gpa(&self->vm, 0x100000), 8));
	/* No PDPT entry there. */
	rg[0] = range(KVMDBG_RANGE_GVA, 0x80000000, 8, self->buf[1]);
	EXPECT_EQ(-1, TAKE(self, rg, 1));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, self->snap.failed_range);
}

TEST_F(ranges, unmapped_gpa)
{
	struct kvmdbg_range rg[2] = {
		range(KVMDBG_RANGE_GPA, 0x100000, 8, self->buf[0]),
		/* Ends past the memslot. */
		range(KVMDBG_RANGE_GPA, GUEST_MEM - 8, 16, self->buf[1]),
	};

	EXPECT_EQ(-1, TAKE(self, rg, 2));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, self->snap.failed_range);
	/* A bad user buffer is a fault on that range too. */
	rg[1] = range(KVMDBG_RANGE_GPA, 0x100000, 8, (void *)8);
	EXPECT_EQ(-1, TAKE(self, rg, 2));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, self->snap.failed_range);
}

TEST_F(ranges, limits)
{
	static struct kvmdbg_range many[KVMDBG_MAX_RANGES + 1];
	struct kvmdbg_range rg[2];
	int i;

	for (i = 0; i <= KVMDBG_MAX_RANGES; i++)
		many[i] = range(KVMDBG_RANGE_GPA, 0x100000, 8, self->buf[0]);
	EXPECT_EQ(0, TAKE(self, many, KVMDBG_MAX_RANGES));
	EXPECT_EQ(-1, TAKE(self, many, KVMDBG_MAX_RANGES + 1));
	EXPECT_EQ(E2BIG, errno);
	rg[0] = range(KVMDBG_RANGE_GPA, 0, KVMDBG_MAX_RANGE_BYTES + 1, self->buf[0]);
	EXPECT_EQ(-1, TAKE(self, rg, 1));
	EXPECT_EQ(E2BIG, errno);
	rg[0] = range(KVMDBG_RANGE_GPA, 0, KVMDBG_MAX_RANGE_BYTES / 2, self->buf[0]);
	rg[1] = range(KVMDBG_RANGE_GPA, 0, KVMDBG_MAX_RANGE_BYTES / 2 + 1, self->buf[0]);
	EXPECT_EQ(-1, TAKE(self, rg, 2));
	EXPECT_EQ(E2BIG, errno);
}

TEST_F(ranges, args)
{
	struct kvmdbg_range rg = range(KVMDBG_RANGE_GPA, 0x100000, 8, self->buf[0]);

	rg.flags = 2;
	EXPECT_EQ(-1, TAKE(self, &rg, 1));
	EXPECT_EQ(EINVAL, errno);
	rg.flags = KVMDBG_RANGE_GPA;
	rg.reserved[1] = 1;
	EXPECT_EQ(-1, TAKE(self, &rg, 1));
	EXPECT_EQ(EINVAL, errno);
	rg.reserved[1] = 0;
	rg.flags = KVMDBG_RANGE_GVA;
	rg.vcpu_id = 7;
	EXPECT_EQ(-1, TAKE(self, &rg, 1));
	EXPECT_EQ(EINVAL, errno);
	rg = range(KVMDBG_RANGE_GPA, ~0ULL - 4, 8, self->buf[0]);
	EXPECT_EQ(-1, TAKE(self, &rg, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, snapshot(self->s, &self->snap, self->st, 2, (void *)8, 1));
	EXPECT_EQ(EFAULT, errno);
	/* A zero-length range is fine. */
	rg = range(KVMDBG_RANGE_GPA, 0x100000, 0, NULL);
	EXPECT_EQ(0, TAKE(self, &rg, 1));
}

TEST_HARNESS_MAIN
