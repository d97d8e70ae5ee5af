/*
 * Runs a libFuzzer target without libFuzzer, as an ordinary test: every
 * file in the corpus directories given on the command line, then a fixed
 * number of inputs generated from a seeded PRNG over the format's own
 * alphabet (field names, colons, spaces, CR, LF, BOM bytes).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static size_t run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		perror(dir);
		exit(2);
	}
	size_t files = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		uint8_t buf[1 << 16];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		files++;
	}
	closedir(d);
	return files;
}

int main(int argc, char **argv)
{
	size_t files = 0;
	for (int i = 1; i < argc; i++)
		files += run_dir(argv[i]);
	static const char *const pieces[] = {
		"data:", "data: ", "event:", "event: ping", "id:", "id: 1", "retry:", "retry: 100", ":",
		": comment", "\n", "\r", "\r\n", "\n\n", " ", "x", "[DONE]", "{\"a\":1}", "\xEF\xBB\xBF",
		"\xEF", "\xBB", "\0", "message_stop", "error",
	};
	const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
	const int generated = 20000;
	uint8_t buf[2048];
	for (int i = 0; i < generated; i++) {
		size_t n = 0;
		buf[n++] = (uint8_t)next();
		for (int k = 0; k < 8; k++)
			buf[n++] = (uint8_t)next();
		int count = (int)(next() % 40);
		for (int k = 0; k < count; k++) {
			const char *piece = pieces[next() % npieces];
			size_t len = piece[0] ? strlen(piece) : 1;
			if (n + len > sizeof(buf))
				break;
			memcpy(buf + n, piece, len);
			n += len;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("replayed %zu corpus files and %d generated inputs\n", files, generated);
	return 0;
}
