/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the bzImage header parser (untrusted file bytes), and for headers it
 * accepts, the placement and zero-page builder that consume its result.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bootparams.h"
#include "core/log.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t mems[] = { 64ULL << 20, 256ULL << 20, 8192ULL << 20 };
	struct bzimage_info bz;
	struct boot_layout lay;
	struct boot_params *bp;
	/* An exact-size copy, so ASan sees any read past the end. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	log_set_level(LOG_ERR);
	if (bzimage_parse(copy, size, &bz) == 0) {
		bp = malloc(sizeof(*bp));
		for (size_t i = 0; bp && i < sizeof(mems) / sizeof(mems[0]); i++) {
			uint64_t initrd = size > 8 ? (uint64_t)copy[size - 1] << 20 : 0;

			if (bootparams_place(&bz, mems[i], initrd, size % 4096, &lay))
				continue;
			/* What was placed must lie inside guest RAM below the hole. */
			if (lay.kernel_end > mems[i] ||
			    lay.initrd_addr + lay.initrd_size > mems[i])
				abort();
			bootparams_build(&bz, &lay, mems[i], 0xe0000, bp);
		}
		free(bp);
	}
	free(copy);
	return 0;
}
