/* PID 1 of the aarch64 test VM (test/system/arm64.test.ts): runs the native
 * tests named on the kernel command line (hushbox_filter=...) and powers off,
 * printing their exit status on the console. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  mkdir("/dev", 0755);
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  int fd = open("/dev/console", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
  }
  mkdir("/proc", 0755);
  mkdir("/sys", 0755);
  mkdir("/tmp", 01777);
  mount("proc", "/proc", "proc", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  mount("tmpfs", "/tmp", "tmpfs", 0, NULL);

  /* The kernel hands unknown name=value words to init as its environment. */
  const char* filter = getenv("hushbox_filter");
  (void)argc;
  (void)argv;
  printf("HUSHBOX-ARM64-START filter=%s\n", filter ? filter : "");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    char* args[] = {"/hushbox-native-tests", (char*)(filter ? filter : ""), NULL};
    char* env[] = {"LD_LIBRARY_PATH=/lib", "PATH=/", NULL};
    execve(args[0], args, env);
    perror("execve /hushbox-native-tests");
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  printf("HUSHBOX-ARM64-DONE status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}
