/*
 * A main() for the fuzz harnesses without libFuzzer: runs
 * LLVMFuzzerTestOneInput on each file named, or on every file of the
 * directories named (the corpus and the crashes kept from earlier runs), so
 * that every input ever found is a regression test under ASan and UBSan.
 *
 * Each input runs in its own child: a crash or a leak (LeakSanitizer checks
 * at the child's exit) fails that input and names it, and the others still
 * run.  Prints "NAME: N passed, N failed" and exits 1 if any failed.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

#define INPUT_SECONDS	20	/* a hang is a failure too */

static unsigned passed, failed;

static int
read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return -1;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*data = buf;
	*len = n;
	return 0;
}

static void
run_one(const char *path)
{
	uint8_t *data;
	size_t len;
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		if (read_file(path, &data, &len) == -1) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			_exit(2);
		}
		alarm(INPUT_SECONDS);
		/* An exact-size copy, so ASan sees any read past the end. */
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, data, len);
		free(data);
		LLVMFuzzerTestOneInput(copy, len);
		free(copy);
		exit(0);	/* not _exit: LeakSanitizer runs at exit */
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			perror("waitpid");
			exit(2);
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		passed++;
		return;
	}
	failed++;
	if (WIFSIGNALED(status))
		fprintf(stderr, "FAILED %s (signal %d)\n", path,
		    WTERMSIG(status));
	else
		fprintf(stderr, "FAILED %s (exit %d)\n", path,
		    WEXITSTATUS(status));
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's regular files, in name order: runs are reproducible. */
static void
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	char **names = NULL, path[4096];
	size_t n = 0;

	if (d == NULL)
		return;		/* no crashes kept: nothing to run */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if ((names = realloc(names, (n + 1) * sizeof *names)) == NULL ||
		    (names[n++] = strdup(path)) == NULL)
			abort();
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		run_one(names[i]);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char **argv)
{
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
	    argv[0];
	struct stat st;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else if (stat(argv[i], &st) == 0)
			run_one(argv[i]);
	}
	printf("%s: %u passed, %u failed\n", name, passed, failed);
	return failed > 0;
}
