/* The test ground's HTTP server: answers every request with the file $WWW_FILE (default
   /www/index.html) and logs one line per request on stdout. Static, so it runs FROM scratch;
   it is PID 1 in its container, so it exits on SIGTERM itself. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_signal(int sig) {
  printf("httpd: signal %d, exiting\n", sig);
  fflush(stdout);
  _exit(0);
}

int main(void) {
  const char *file = getenv("WWW_FILE") ? getenv("WWW_FILE") : "/www/index.html";
  const char *version = getenv("VERSION") ? getenv("VERSION") : "unknown";
  int port = getenv("PORT") ? atoi(getenv("PORT")) : 8080, one = 1;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  int srv = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(srv, (struct sockaddr *)&addr, sizeof addr) || listen(srv, 64)) {
    perror("httpd: bind/listen");
    return 1;
  }
  printf("httpd %s listening on :%d, serving %s\n", version, port, file);
  fflush(stdout);
  static char body[1 << 20];
  for (unsigned long n = 1;; n++) {
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof peer;
    int conn = accept(srv, (struct sockaddr *)&peer, &peer_len);
    if (conn < 0) continue;
    char req[2048] = {0}, line[256] = {0};
    ssize_t got = read(conn, req, sizeof req - 1);
    sscanf(got > 0 ? req : "", "%255[^\r\n]", line);
    size_t len = 0;
    FILE *f = fopen(file, "r");
    if (f) {
      len = fread(body, 1, sizeof body, f);
      fclose(f);
    }
    char head[256];
    int head_len = snprintf(head, sizeof head,
                            "HTTP/1.0 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n",
                            f ? "200 OK" : "404 Not Found", len);
    if (write(conn, head, head_len) < 0 || (len && write(conn, body, len) < 0)) perror("httpd: write");
    close(conn);
    printf("request %lu from %s \"%s\" %d %zu bytes\n", n, inet_ntoa(peer.sin_addr), line, f ? 200 : 404, len);
    fflush(stdout);
  }
}
