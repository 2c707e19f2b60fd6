/*
 * fuzz_delta_action.c — libFuzzer target for the Delta log action parser.
 * Every line of the input goes through lks_delta_action_parse; what parses
 * is written back with lks_delta_action_write and must parse again to the
 * same kind and write back to the same bytes (fuzz/delta_exercise.h).
 *
 *   make fuzz
 *   build/fuzz/fuzz_delta_action -malloc_limit_mb=512 -max_len=65536 CORPUS_DIR fuzz/seeds_delta_action
 *
 * Crashes found are kept, minimised, in fuzz/crashes_delta/ (action-*) and
 * replayed by tests/unit/test_delta_hostile.c.
 */
#include "delta_exercise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)lks_dfuzz_actions(data, size);
    return 0;
}
