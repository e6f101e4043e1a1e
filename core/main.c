/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--version") == 0) {
		puts("bulwark 0.1");
		return 0;
	}
	fprintf(stderr, "usage: bulwark COMMAND ...\n");
	return 2;
}
