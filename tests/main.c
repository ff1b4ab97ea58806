/*
 * main.c - the test runner: one Check suite per topic.
 *
 * Run one test:  CK_RUN_SUITE=alloc CK_RUN_CASE=core CK_FORK=no tests/run-tests
 * (prefix `wine` for the Windows build).  PH_TEST_SEED sets the seed.
 */
#include "suites.h"

#include <stdlib.h>

int main(void) {
  printf("portheap %s, backend %s%s, seed %u\n", ph_version(), ph_backend(),
         ph_test_on_wine() ? " (on Wine)" : "", ph_test_seed());
  SRunner* sr = srunner_create(test_registry());
  srunner_add_suite(sr, test_create());
  srunner_add_suite(sr, test_alloc());
  srunner_add_suite(sr, test_geometry());
  srunner_add_suite(sr, test_realloc());
  srunner_add_suite(sr, test_lasterror());
  srunner_add_suite(sr, test_misuse());
  srunner_add_suite(sr, test_hardening());
  srunner_add_suite(sr, test_walk());
  srunner_add_suite(sr, test_validate());
  srunner_add_suite(sr, test_lock());
  srunner_add_suite(sr, test_info());
  srunner_add_suite(sr, test_exceptions());
  srunner_add_suite(sr, test_trust());
  srunner_add_suite(sr, test_memory());
  srunner_add_suite(sr, test_scale());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  int run = srunner_ntests_run(sr);
  /* The same tests are defined on every backend: this line compares. */
  printf("portheap suite: %u tests defined, %d run, %u skipped on the %s "
         "backend, %u-bit\n",
         (unsigned)run + ph_test_skipped, run, ph_test_skipped, ph_backend(),
         (unsigned)sizeof(void*) * 8);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
