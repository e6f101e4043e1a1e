/* SPDX-License-Identifier: Apache-2.0 */
/*
 * control-client [--context CTX] [--uid N] SOCKET FILE...: sends each FILE's
 * bytes as one request to a guest's control socket (one connection each,
 * write side shut after it) and prints "STATUS FILE" per answer (STATUS
 * "000" when the connection was refused or closed unanswered, with the
 * reason).  --context: the client socket is created at CTX
 * (setsockcreatecon), which is the context the launcher's getpeercon sees
 * and the kernel checks at connect; --uid: the client runs as uid N (after
 * the socket context is set).  For test-control (issue 16).
 */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <selinux/selinux.h>

static int one(const char *sock, const char *file)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	static char req[65536], rep[65536];
	size_t len = 0, got = 0;
	ssize_t n;
	int fd = open(file, O_RDONLY | O_CLOEXEC), s;

	if (fd < 0)
		return perror(file), 1;
	while ((n = read(fd, req + len, sizeof(req) - len)) > 0)
		len += (size_t)n;
	close(fd);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sun, sizeof(sun))) {
		printf("000 %s (connect: %s)\n", file, strerror(errno));
		if (s >= 0)
			close(s);
		return 0;
	}
	if (send(s, req, len, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET)
		printf("    (send: %s)\n", strerror(errno));
	shutdown(s, SHUT_WR);
	while (got < sizeof(rep) - 1 && (n = read(s, rep + got, sizeof(rep) - 1 - got)) > 0)
		got += (size_t)n;
	rep[got] = '\0';
	close(s);
	if (got > 12 && !strncmp(rep, "HTTP/1.", 7))
		printf("%.3s %s\n", rep + 9, file);
	else
		printf("000 %s (no answer)\n", file);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1, rc = 0;

	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--context")) {
			if (setsockcreatecon(argv[i + 1])) {
				fprintf(stderr, "setsockcreatecon %s: %s\n", argv[i + 1],
					strerror(errno));
				return 1;
			}
		} else if (!strcmp(argv[i], "--uid")) {
			uid_t u = (uid_t)strtoul(argv[i + 1], NULL, 10);

			/* gid and groups too: a client left in root's group
			 * would be judged by the folders' group bits. */
			if (setgroups(0, NULL) || setresgid(u, u, u) || setresuid(u, u, u))
				return perror("--uid"), 1;
		} else {
			break;
		}
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: control-client [--context CTX] [--uid N] SOCKET FILE...\n");
		return 2;
	}
	for (int k = i + 1; k < argc; k++)
		rc |= one(argv[i], argv[k]);
	return rc;
}
