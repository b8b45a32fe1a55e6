/* fork, exec, wait, pipes, exit statuses and environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        const char msg[] = "through the pipe";
        write(p[1], msg, sizeof msg);
        _exit(3);
    }
    close(p[1]);
    char buf[64] = {0};
    read(p[0], buf, sizeof buf);
    int status;
    waitpid(pid, &status, 0);
    printf("child said '%s', exited %d\n", buf, WEXITSTATUS(status));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        setenv("PV_TEST", "inherited", 1);
        /* a host program: qemu-user runs it on the host (it cannot exec RISC-V
           programs without binfmt_misc), and so does pyvirt */
        execl("/bin/sh", "sh", "-c", "echo exec\\'d sh: $PV_TEST; exit 5", (char *)NULL);
        _exit(99);
    }
    waitpid(pid, &status, 0);
    printf("exec'd child exited %d\n", WEXITSTATUS(status));
    pid = fork();
    if (pid == 0) {
        abort();
    }
    waitpid(pid, &status, 0);
    printf("aborted child: signaled %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));
    FILE *f = popen("echo popen works", "r");
    if (f) {
        fgets(buf, sizeof buf, f);
        printf("%s", buf);
        printf("pclose %d\n", WEXITSTATUS(pclose(f)));
    }
    return 4;
}
