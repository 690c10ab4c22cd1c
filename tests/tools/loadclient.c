/*
 * loadclient.c: the load of tests/integration/reliability.sh. N client
 * processes each post their own responses (ids PREFIX-K-I) to
 * POST /api/v1/responses one after another, and retry the same id with the
 * same body until sipasd acknowledges it (200, 201 or 202): across 503s,
 * refused connections, resets and timeouts (sipasd killed and restarted,
 * PostgreSQL restarted or stopped); another 4xx is counted and not retried. Every acknowledged id is appended to the
 * --acked file as "ID STATUS". New ids are started for --duration seconds;
 * an id started is retried until acknowledged or until --deadline seconds.
 * With --stop-file, no new id is started once that file exists.
 *
 * Plain blocking sockets, one process per client: no dependencies. Prints
 * one line of totals; exits 1 if an id was never acknowledged or a reply was
 * neither an acknowledgement nor 503.
 *
 *	loadclient --port P --token T --acked FILE [--host 127.0.0.1]
 *	    [--clients 32] [--duration 40] [--deadline 80] [--prefix ld]
 *	    [--survey onestop-tt01] [--unit U001] [--stop-file FILE]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ST_ACK, ST_201, ST_200, ST_202, ST_503, ST_CONN, ST_OTHER, ST_LOST, ST_N };
static const char *const st_names[ST_N] = { "acked", "s201", "s200", "s202",
	"s503", "conn_errors", "other", "unacked" };

static const char *host = "127.0.0.1", *token, *acked_path, *prefix = "ld";
static const char *survey = "onestop-tt01", *unit = "U001";
static int port, nclients = 32;
static double duration = 40, deadline = 80;
static const char *stop_path;

/* 1 once the --stop-file exists. */
static int
stopped(void)
{
	return stop_path != NULL && access(stop_path, F_OK) == 0;
}

/* Seconds since the epoch, as a double. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep ms milliseconds. */
static void
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One POST; the HTTP status, or -1 when no status line came back. */
static int
post(const char *body)
{
	struct sockaddr_in sa;
	struct timeval tv = { 15, 0 };
	char req[4096], buf[4096];
	size_t len, got = 0;
	ssize_t n;
	int fd, status = -1, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		goto out;
	len = (size_t)snprintf(req, sizeof req, "POST /api/v1/responses "
	    "HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", host, port, token, strlen(body),
	    body);
	if (len >= sizeof req || write(fd, req, len) != (ssize_t)len)
		goto out;
	/* Read to the end (Connection: close); the status is on line 1. */
	while ((n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
		got += (size_t)n;
		if (got == sizeof buf - 1) {
			buf[got] = '\0';
			if (status < 0 && sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				status = -1;
			got = 0;
		}
	}
	buf[got] = '\0';
	if (n < 0)
		status = -1; /* a reset or a timeout: unknown */
	else if (status < 0 && sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
out:
	close(fd);
	return status;
}

/* Client k: post ids until duration, each until acknowledged. */
static void
client(int k, int ackfd, int statfd)
{
	long counts[ST_N] = { 0 };
	char id[128], body[512], line[640];
	double t0 = now();
	int i, status, len, s;

	srandom((unsigned)getpid());
	for (i = 0; now() - t0 < duration && !stopped(); i++) {
		snprintf(id, sizeof id, "%s-%d-%d", prefix, k, i);
		snprintf(body, sizeof body, "{\"id\":\"%s\",\"survey\":\"%s\","
		    "\"unit\":\"%s\",\"answers\":{\"R1\":%d}}", id, survey, unit,
		    1 + (k + i) % 3);
		for (;;) {
			status = post(body);
			if (status == 200 || status == 201 || status == 202) {
				counts[ST_ACK]++;
				counts[status == 201 ? ST_201 : status == 200 ?
				    ST_200 : ST_202]++;
				len = snprintf(line, sizeof line, "%s %d\n", id,
				    status);
				if (write(ackfd, line, (size_t)len) != len) {
					perror("loadclient: acked file");
					_exit(2);
				}
				break;
			}
			s = status == 503 ? ST_503 : status < 0 ? ST_CONN :
			    ST_OTHER;
			counts[s]++;
			if (s == ST_OTHER) {
				fprintf(stderr, "loadclient: %s: HTTP %d\n", id,
				    status);
				/* A refusal of the content: retrying is useless. */
				if (status >= 400 && status < 500 &&
				    status != 408 && status != 429)
					break;
			}
			if (now() - t0 > deadline) {
				fprintf(stderr, "loadclient: %s never "
				    "acknowledged\n", id);
				counts[ST_LOST]++;
				goto done;
			}
			nap(50 + random() % 100);
		}
	}
done:
	len = snprintf(line, sizeof line, "%ld %ld %ld %ld %ld %ld %ld %ld\n",
	    counts[0], counts[1], counts[2], counts[3], counts[4], counts[5],
	    counts[6], counts[7]);
	if (write(statfd, line, (size_t)len) != len)
		_exit(2);
	_exit(0);
}

/* Fork the clients, add up their counts. */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "token", required_argument, NULL, 't' },
		{ "acked", required_argument, NULL, 'a' },
		{ "clients", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "deadline", required_argument, NULL, 'D' },
		{ "stop-file", required_argument, NULL, 'S' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "survey", required_argument, NULL, 's' },
		{ "unit", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	long total[ST_N] = { 0 }, c[ST_N];
	char buf[256];
	FILE *f;
	int o, k, ackfd, pfd[2], st, bad = 0;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'h': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 't': token = optarg; break;
		case 'a': acked_path = optarg; break;
		case 'c': nclients = atoi(optarg); break;
		case 'd': duration = atof(optarg); break;
		case 'D': deadline = atof(optarg); break;
		case 'S': stop_path = optarg; break;
		case 'P': prefix = optarg; break;
		case 's': survey = optarg; break;
		case 'u': unit = optarg; break;
		default:
			return 2;
		}
	}
	if (port <= 0 || token == NULL || acked_path == NULL || nclients < 1) {
		fprintf(stderr, "usage: loadclient --port P --token T --acked "
		    "FILE [--clients N] [--duration S] [--deadline S]\n");
		return 2;
	}
	if ((ackfd = open(acked_path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC,
	    0644)) < 0 || pipe(pfd) != 0) {
		perror("loadclient");
		return 2;
	}
	for (k = 0; k < nclients; k++) {
		switch (fork()) {
		case -1:
			perror("loadclient: fork");
			return 2;
		case 0:
			close(pfd[0]);
			client(k, ackfd, pfd[1]);
		}
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	while (fgets(buf, sizeof buf, f) != NULL) {
		if (sscanf(buf, "%ld %ld %ld %ld %ld %ld %ld %ld", &c[0], &c[1],
		    &c[2], &c[3], &c[4], &c[5], &c[6], &c[7]) != ST_N)
			continue;
		for (k = 0; k < ST_N; k++)
			total[k] += c[k];
	}
	fclose(f);
	while (wait(&st) > 0) {
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	}
	for (k = 0; k < ST_N; k++)
		printf("%s%s %ld", k > 0 ? " " : "", st_names[k], total[k]);
	printf("\n");
	return bad || total[ST_LOST] > 0 || total[ST_OTHER] > 0;
}
