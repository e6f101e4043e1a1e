/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BULWARK_FUZZ_H
#define BULWARK_FUZZ_H
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
