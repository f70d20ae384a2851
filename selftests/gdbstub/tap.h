/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal TAP producer for the gdbstub tests (scripts/check.sh counts
 * "ok N" / "not ok N" lines). One test function per behaviour; CHECK_*
 * report "# got X (should be Y)" and let the test go on.
 */
#ifndef KVMDBG_SELFTESTS_GDBSTUB_TAP_H
#define KVMDBG_SELFTESTS_GDBSTUB_TAP_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct tap_test {
	const char *name;
	void (*fn)(void);
	int line;
	/* A table row instead: case_fn(arg) (tap_register_case). */
	void (*case_fn)(const void *arg);
	const void *arg;
};

/*
 * TEST(name) { ... } defines a test and registers it from a constructor;
 * tap_run() sorts them by source line, so they run in file order.
 */
#define TAP_MAX_TESTS	512
static struct tap_test tap_tests[TAP_MAX_TESTS];
static size_t tap_nr_tests;

static inline void tap_register(const char *name, void (*fn)(void), int line)
{
	if (tap_nr_tests < TAP_MAX_TESTS)
		tap_tests[tap_nr_tests++] = (struct tap_test){
			.name = name, .fn = fn, .line = line };
}

/*
 * One row of a table of cases, run as its own test; @line orders it among
 * the others (tap_run() runs them by line).
 */
static inline void tap_register_case(const char *name,
				     void (*fn)(const void *arg),
				     const void *arg, int line)
{
	if (tap_nr_tests < TAP_MAX_TESTS)
		tap_tests[tap_nr_tests++] = (struct tap_test){
			.name = name, .line = line, .case_fn = fn, .arg = arg };
}

/*
 * Registers every row of the array @table (rows with a .name) as a test
 * running fn(&row), ordered at @line + row index.
 */
#define TAP_REGISTER_CASES(table, fn, line)				\
	__attribute__((constructor)) static void tap_reg_##table(void)	\
	{								\
		for (size_t i_ = 0; i_ < sizeof(table) / sizeof((table)[0]); i_++) \
			tap_register_case((table)[i_].name, (fn),	\
					  &(table)[i_], (line) + (int)i_); \
	}

#define TEST(n)								\
	static void test_##n(void);					\
	__attribute__((constructor)) static void tap_reg_##n(void)	\
	{ tap_register(#n, test_##n, __LINE__); }			\
	static void test_##n(void)

static bool tap_test_failed;

static inline void tap_fail(const char *file, int line, const char *what)
{
	printf("#   %s:%d: %s\n", file, line, what);
	tap_test_failed = true;
}

static inline void tap_check_str(const char *file, int line, const char *expr,
				 const char *got, const char *want)
{
	if (got && want && !strcmp(got, want))
		return;
	printf("#   %s:%d: %s\n#     got \"%.400s\"\n#     (should be \"%.400s\")\n",
	       file, line, expr, got ? got : "(null)", want ? want : "(null)");
	tap_test_failed = true;
}

static inline void tap_check_int(const char *file, int line, const char *expr,
				 long long got, long long want)
{
	if (got == want)
		return;
	printf("#   %s:%d: %s: got %lld (0x%llx) (should be %lld (0x%llx))\n",
	       file, line, expr, got, (unsigned long long)got, want,
	       (unsigned long long)want);
	tap_test_failed = true;
}

#define CHECK_STR(got, want) \
	tap_check_str(__FILE__, __LINE__, #got, (got), (want))
#define CHECK_INT(got, want) \
	tap_check_int(__FILE__, __LINE__, #got, (long long)(got), \
		      (long long)(want))
#define CHECK(cond) \
	do { if (!(cond)) tap_fail(__FILE__, __LINE__, "failed: " #cond); } \
	while (0)

static inline int tap_cmp_line(const void *a, const void *b)
{
	return ((const struct tap_test *)a)->line -
	       ((const struct tap_test *)b)->line;
}

/*
 * One test in a child process, so a crash (or a sanitizer report) fails
 * that test alone; the child's exit status says pass or fail.
 */
static inline bool tap_run_one(const struct tap_test *t, void (*setup)(void),
			       void (*teardown)(void))
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		tap_test_failed = false;
		if (setup)
			setup();
		if (t->case_fn)
			t->case_fn(t->arg);
		else
			t->fn();
		if (teardown)
			teardown();
		fflush(stdout);
		_exit(tap_test_failed ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return false;
	if (WIFSIGNALED(status))
		printf("#   killed by signal %d\n", WTERMSIG(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Runs every test between setup() and teardown(); returns the exit code. */
static inline int tap_run(void (*setup)(void), void (*teardown)(void))
{
	int failed = 0;

	qsort(tap_tests, tap_nr_tests, sizeof(tap_tests[0]), tap_cmp_line);
	printf("TAP version 13\n1..%zu\n", tap_nr_tests);
	for (size_t i = 0; i < tap_nr_tests; i++) {
		bool ok = tap_run_one(&tap_tests[i], setup, teardown);

		printf("%sok %zu - %s\n", ok ? "" : "not ", i + 1,
		       tap_tests[i].name);
		failed += !ok;
	}
	printf("# %zu passed, %d failed\n", tap_nr_tests - (size_t)failed,
	       failed);
	return failed ? 1 : 0;
}

#endif /* KVMDBG_SELFTESTS_GDBSTUB_TAP_H */
