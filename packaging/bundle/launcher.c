/* docker-credential-portside in the bundle: execs the bundle's own Python on the helper.
 *
 * The docker CLI runs the credential helper on every pull and push, so its start-up matters. A
 * PyInstaller executable spends ~40 ms in its bootloader and runtime hooks before the helper runs;
 * this launcher finds its folder through /proc/self/exe (so a symlink on PATH works) and execs
 * `_internal/helper/bin/python3 -IS _internal/helper/main.py ARGS...`: isolated, no `site`, the
 * standard library and Portside's `engine` package next to it, no shell in between. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        perror("docker-credential-portside: cannot find its own folder (/proc/self/exe)");
        return 1;
    }
    self[n] = '\0';
    const char *dir = dirname(self);
    char python[PATH_MAX], script[PATH_MAX];
    if (snprintf(python, sizeof python, "%s/_internal/helper/bin/python3", dir) >= PATH_MAX ||
        snprintf(script, sizeof script, "%s/_internal/helper/main.py", dir) >= PATH_MAX) {
        fputs("docker-credential-portside: the install folder's path is too long\n", stderr);
        return 1;
    }
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (args == NULL) {
        perror("docker-credential-portside");
        return 1;
    }
    args[0] = python;
    args[1] = "-IS";
    args[2] = script;
    for (int i = 1; i < argc; i++) args[i + 2] = argv[i];
    args[argc + 2] = NULL;
    execv(python, args);
    fprintf(stderr, "docker-credential-portside: cannot run %s: ", python);
    perror(NULL);
    fputs("Reinstall Portside: its bundle is incomplete.\n", stderr);
    return 1;
}
