/* The movies example's service: a tiny static HTTP server that answers every request with one
   line naming the service and its version, both compiled in by build.sh from the service's
   directory. Static, so its image is FROM scratch. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef SERVICE
#define SERVICE "unknown"
#endif
#ifndef VERSION
#define VERSION "unknown"
#endif

static void stop(int sig) { (void)sig; _exit(0); }

int main(void) {
  signal(SIGTERM, stop);
  signal(SIGPIPE, SIG_IGN);
  int one = 1, srv = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(8080)};
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(srv, (struct sockaddr *)&addr, sizeof addr) || listen(srv, 16)) return 1;
  printf("%s %s ready on :8080\n", SERVICE, VERSION);
  fflush(stdout);
  const char *body = SERVICE " " VERSION "\n";
  for (;;) {
    int c = accept(srv, NULL, NULL);
    if (c < 0) continue;
    char req[1024];
    if (read(c, req, sizeof req) > 0) {
      char head[128];
      int n = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n", strlen(body));
      if (write(c, head, n) > 0 && write(c, body, strlen(body)) > 0) {
        printf("served %s", body);
        fflush(stdout);
      }
    }
    close(c);
  }
}
