// rt_guard: an LD_PRELOAD library that counts, per thread, every call to the
// allocator, to locks and to the libc system-call wrappers, so a test can show
// that the engine's audio thread makes none of them over a whole run.
//
// The audio thread is the one that names itself "hb-audio" (pthread_setname_np
// on itself, just before its first period): its counts start from zero there,
// and freeze when it renames itself "hb-audio-done" after its last period.
// Counts are written as JSON to $RT_GUARD_OUT when the process exits.
//
// A thread the engine does not own (JACK's process thread) runs the engine's
// code only inside its callback: the engine marks that stretch by calling
// hushbox_rt_guard_section(1) and (0) (looked up with dlsym), and from the
// first mark on that thread counts only inside the marks ("sections"); that
// thread is reported as an audio thread whatever its name.
//
// Categories: "alloc", "lock" and "syscall" are forbidden on the audio thread;
// "clock" (clock_nanosleep, nanosleep) and "alsa" (ioctl, poll) are what it
// may use, counted to show the guard sees that thread at all.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum Fn {
  F_MALLOC, F_CALLOC, F_REALLOC, F_FREE, F_MEMALIGN, F_POSIX_MEMALIGN, F_ALIGNED_ALLOC,
  F_MUTEX_LOCK, F_MUTEX_TRYLOCK, F_RWLOCK_RD, F_RWLOCK_WR, F_COND_WAIT, F_COND_TIMEDWAIT, F_SEM_WAIT,
  F_WRITE, F_READ, F_OPEN, F_OPENAT, F_CLOSE, F_WRITEV, F_SEND, F_SENDTO, F_RECV, F_MMAP, F_MUNMAP, F_MPROTECT,
  F_USLEEP, F_SCHED_YIELD, F_SELECT, F_PPOLL, F_FOPEN, F_FWRITE, F_FPUTS, F_PUTS, F_FPRINTF, F_PRINTF, F_VFPRINTF,
  F_FFLUSH, F_SYSCALL, F_PTHREAD_CREATE,
  F_CLOCK_NANOSLEEP, F_NANOSLEEP,
  F_IOCTL, F_POLL,
  F_COUNT
};

static const char* kNames[F_COUNT] = {
    "malloc", "calloc", "realloc", "free", "memalign", "posix_memalign", "aligned_alloc",
    "pthread_mutex_lock", "pthread_mutex_trylock", "pthread_rwlock_rdlock", "pthread_rwlock_wrlock",
    "pthread_cond_wait", "pthread_cond_timedwait", "sem_wait",
    "write", "read", "open", "openat", "close", "writev", "send", "sendto", "recv", "mmap", "munmap", "mprotect",
    "usleep", "sched_yield", "select", "ppoll", "fopen", "fwrite", "fputs", "puts", "fprintf", "printf", "vfprintf",
    "fflush", "syscall", "pthread_create",
    "clock_nanosleep", "nanosleep",
    "ioctl", "poll"};

static const char* category(int f) {
  if (f <= F_ALIGNED_ALLOC) return "alloc";
  if (f <= F_SEM_WAIT) return "lock";
  if (f <= F_PTHREAD_CREATE) return "syscall";
  if (f <= F_NANOSLEEP) return "clock";
  return "alsa";
}

#define MAX_THREADS 128
struct Slot {
  pthread_t thread;
  char name[32];
  int audio;   // named itself hb-audio: counts from then on
  int frozen;  // renamed itself hb-audio-done: counts no more
  int gated;   // called hushbox_rt_guard_section: counts only inside a section
  int inside;
  unsigned long long sections;
  unsigned long long counts[F_COUNT];
};
static struct Slot g_slots[MAX_THREADS];
static atomic_int g_used;
static __thread struct Slot* t_slot __attribute__((tls_model("initial-exec")));
static __thread int t_inside __attribute__((tls_model("initial-exec")));

static struct Slot* slot(void) {
  if (t_slot) return t_slot;
  const int i = atomic_fetch_add(&g_used, 1);
  if (i >= MAX_THREADS) return NULL;
  g_slots[i].thread = pthread_self();
  t_slot = &g_slots[i];
  return t_slot;
}

static void count(int f) {
  if (t_inside) return;  // the guard's own calls
  struct Slot* s = slot();
  if (s && !s->frozen && (!s->gated || s->inside)) s->counts[f]++;
}

// The engine's marks around its callback's work (see the top of this file).
__attribute__((visibility("default"))) void hushbox_rt_guard_section(int inside) {
  struct Slot* s = slot();
  if (!s) return;
  if (!s->gated) {
    memset(s->counts, 0, sizeof s->counts);
    s->audio = 1;  // the thread that runs the engine's audio work
    if (!s->name[0]) strcpy(s->name, "hb-audio");
  }
  s->gated = 1;
  s->inside = inside;
  if (inside) s->sections++;
}

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void __libc_free(void*);
extern void* __libc_memalign(size_t, size_t);

#define REAL(ret, name, args) static ret(*real_##name) args;
REAL(int, pthread_mutex_lock, (pthread_mutex_t*))
REAL(int, pthread_mutex_trylock, (pthread_mutex_t*))
REAL(int, pthread_rwlock_rdlock, (pthread_rwlock_t*))
REAL(int, pthread_rwlock_wrlock, (pthread_rwlock_t*))
REAL(int, pthread_cond_wait, (pthread_cond_t*, pthread_mutex_t*))
REAL(int, pthread_cond_timedwait, (pthread_cond_t*, pthread_mutex_t*, const struct timespec*))
REAL(int, sem_wait, (sem_t*))
REAL(ssize_t, write, (int, const void*, size_t))
REAL(ssize_t, read, (int, void*, size_t))
REAL(int, open, (const char*, int, ...))
REAL(int, openat, (int, const char*, int, ...))
REAL(int, close, (int))
REAL(ssize_t, writev, (int, const struct iovec*, int))
REAL(ssize_t, send, (int, const void*, size_t, int))
REAL(ssize_t, sendto, (int, const void*, size_t, int, const struct sockaddr*, socklen_t))
REAL(ssize_t, recv, (int, void*, size_t, int))
REAL(void*, mmap, (void*, size_t, int, int, int, off_t))
REAL(int, munmap, (void*, size_t))
REAL(int, mprotect, (void*, size_t, int))
REAL(int, usleep, (useconds_t))
REAL(int, sched_yield, (void))
REAL(int, select, (int, fd_set*, fd_set*, fd_set*, struct timeval*))
REAL(int, ppoll, (struct pollfd*, nfds_t, const struct timespec*, const sigset_t*))
REAL(FILE*, fopen, (const char*, const char*))
REAL(size_t, fwrite, (const void*, size_t, size_t, FILE*))
REAL(int, fputs, (const char*, FILE*))
REAL(int, puts, (const char*))
REAL(int, vfprintf, (FILE*, const char*, va_list))
REAL(int, fflush, (FILE*))
REAL(long, syscall, (long, long, long, long, long, long, long))
REAL(int, pthread_create, (pthread_t*, const pthread_attr_t*, void* (*)(void*), void*))
REAL(int, pthread_setname_np, (pthread_t, const char*))
REAL(int, clock_nanosleep, (clockid_t, int, const struct timespec*, struct timespec*))
REAL(int, nanosleep, (const struct timespec*, struct timespec*))
REAL(int, ioctl, (int, unsigned long, ...))
REAL(int, poll, (struct pollfd*, nfds_t, int))

#define RESOLVE(name) real_##name = dlsym(RTLD_NEXT, #name)

static void dump(void);

__attribute__((constructor)) static void init(void) {
  t_inside = 1;
  RESOLVE(pthread_mutex_lock);
  RESOLVE(pthread_mutex_trylock);
  RESOLVE(pthread_rwlock_rdlock);
  RESOLVE(pthread_rwlock_wrlock);
  RESOLVE(pthread_cond_wait);
  RESOLVE(pthread_cond_timedwait);
  RESOLVE(sem_wait);
  RESOLVE(write);
  RESOLVE(read);
  RESOLVE(open);
  RESOLVE(openat);
  RESOLVE(close);
  RESOLVE(writev);
  RESOLVE(send);
  RESOLVE(sendto);
  RESOLVE(recv);
  RESOLVE(mmap);
  RESOLVE(munmap);
  RESOLVE(mprotect);
  RESOLVE(usleep);
  RESOLVE(sched_yield);
  RESOLVE(select);
  RESOLVE(ppoll);
  RESOLVE(fopen);
  RESOLVE(fwrite);
  RESOLVE(fputs);
  RESOLVE(puts);
  RESOLVE(vfprintf);
  RESOLVE(fflush);
  RESOLVE(syscall);
  RESOLVE(pthread_create);
  RESOLVE(pthread_setname_np);
  RESOLVE(clock_nanosleep);
  RESOLVE(nanosleep);
  RESOLVE(ioctl);
  RESOLVE(poll);
  struct Slot* s = slot();
  if (s) strcpy(s->name, "main");
  atexit(dump);
  t_inside = 0;
}

static void dump(void) {
  t_inside = 1;
  const char* path = getenv("RT_GUARD_OUT");
  if (!path) return;
  FILE* f = real_fopen(path, "w");
  if (!f) return;
  int n = atomic_load(&g_used);
  if (n > MAX_THREADS) n = MAX_THREADS;
  fprintf(f, "{\"threads\":[");
  for (int i = 0; i < n; ++i) {
    const struct Slot* s = &g_slots[i];
    fprintf(f, "%s{\"name\":\"%s\",\"audio\":%s,\"sections\":%llu,\"counts\":{", i ? "," : "",
            s->name[0] ? s->name : "?", s->audio ? "true" : "false", s->sections);
    int first = 1;
    for (int k = 0; k < F_COUNT; ++k) {
      if (!s->counts[k]) continue;
      fprintf(f, "%s\"%s\":%llu", first ? "" : ",", kNames[k], s->counts[k]);
      first = 0;
    }
    fprintf(f, "},\"by_category\":{");
    const char* cats[] = {"alloc", "lock", "syscall", "clock", "alsa"};
    for (int c = 0; c < 5; ++c) {
      unsigned long long sum = 0;
      for (int k = 0; k < F_COUNT; ++k)
        if (strcmp(category(k), cats[c]) == 0) sum += s->counts[k];
      fprintf(f, "%s\"%s\":%llu", c ? "," : "", cats[c], sum);
    }
    fprintf(f, "}}");
  }
  fprintf(f, "]}\n");
  fclose(f);
}

// The marker: a thread naming itself.
int pthread_setname_np(pthread_t thread, const char* name) {
  const int rc = real_pthread_setname_np(thread, name);
  if (t_inside) return rc;
  if (pthread_equal(thread, pthread_self())) slot();
  for (int i = 0; i < atomic_load(&g_used) && i < MAX_THREADS; ++i) {
    struct Slot* s = &g_slots[i];
    if (!pthread_equal(s->thread, thread)) continue;
    const int self = pthread_equal(thread, pthread_self());
    if (self && strcmp(name, "hb-audio") == 0) {
      memset(s->counts, 0, sizeof s->counts);
      s->audio = 1;
    } else if (self && strcmp(name, "hb-audio-done") == 0) {
      s->frozen = 1;
      break;  // keep the name hb-audio in the report
    }
    strncpy(s->name, name, sizeof s->name - 1);
  }
  return rc;
}

void* malloc(size_t n) {
  count(F_MALLOC);
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  count(F_CALLOC);
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  count(F_REALLOC);
  return __libc_realloc(p, n);
}
void free(void* p) {
  if (p) count(F_FREE);
  __libc_free(p);
}
void* memalign(size_t a, size_t n) {
  count(F_MEMALIGN);
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  count(F_POSIX_MEMALIGN);
  void* p = __libc_memalign(a, n);
  if (!p) return 12;
  *out = p;
  return 0;
}
void* aligned_alloc(size_t a, size_t n) {
  count(F_ALIGNED_ALLOC);
  return __libc_memalign(a, n);
}

int pthread_mutex_lock(pthread_mutex_t* m) {
  count(F_MUTEX_LOCK);
  return real_pthread_mutex_lock(m);
}
int pthread_mutex_trylock(pthread_mutex_t* m) {
  count(F_MUTEX_TRYLOCK);
  return real_pthread_mutex_trylock(m);
}
int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  count(F_RWLOCK_RD);
  return real_pthread_rwlock_rdlock(l);
}
int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  count(F_RWLOCK_WR);
  return real_pthread_rwlock_wrlock(l);
}
int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  count(F_COND_WAIT);
  return real_pthread_cond_wait(c, m);
}
int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* t) {
  count(F_COND_TIMEDWAIT);
  return real_pthread_cond_timedwait(c, m, t);
}
int sem_wait(sem_t* s) {
  count(F_SEM_WAIT);
  return real_sem_wait(s);
}

ssize_t write(int fd, const void* b, size_t n) {
  count(F_WRITE);
  return real_write(fd, b, n);
}
ssize_t read(int fd, void* b, size_t n) {
  count(F_READ);
  return real_read(fd, b, n);
}
int open(const char* p, int flags, ...) {
  count(F_OPEN);
  va_list ap;
  va_start(ap, flags);
  const int mode = va_arg(ap, int);
  va_end(ap);
  return real_open(p, flags, mode);
}
int open64(const char* p, int flags, ...) {
  count(F_OPEN);
  va_list ap;
  va_start(ap, flags);
  const int mode = va_arg(ap, int);
  va_end(ap);
  return real_open(p, flags, mode);
}
int openat(int dir, const char* p, int flags, ...) {
  count(F_OPENAT);
  va_list ap;
  va_start(ap, flags);
  const int mode = va_arg(ap, int);
  va_end(ap);
  return real_openat(dir, p, flags, mode);
}
int close(int fd) {
  count(F_CLOSE);
  return real_close(fd);
}
ssize_t writev(int fd, const struct iovec* v, int n) {
  count(F_WRITEV);
  return real_writev(fd, v, n);
}
ssize_t send(int fd, const void* b, size_t n, int fl) {
  count(F_SEND);
  return real_send(fd, b, n, fl);
}
ssize_t sendto(int fd, const void* b, size_t n, int fl, const struct sockaddr* a, socklen_t l) {
  count(F_SENDTO);
  return real_sendto(fd, b, n, fl, a, l);
}
ssize_t recv(int fd, void* b, size_t n, int fl) {
  count(F_RECV);
  return real_recv(fd, b, n, fl);
}
void* mmap(void* a, size_t n, int prot, int fl, int fd, off_t off) {
  count(F_MMAP);
  return real_mmap(a, n, prot, fl, fd, off);
}
int munmap(void* a, size_t n) {
  count(F_MUNMAP);
  return real_munmap(a, n);
}
int mprotect(void* a, size_t n, int prot) {
  count(F_MPROTECT);
  return real_mprotect(a, n, prot);
}
int usleep(useconds_t us) {
  count(F_USLEEP);
  return real_usleep(us);
}
int sched_yield(void) {
  count(F_SCHED_YIELD);
  return real_sched_yield();
}
int select(int n, fd_set* r, fd_set* w, fd_set* e, struct timeval* t) {
  count(F_SELECT);
  return real_select(n, r, w, e, t);
}
int ppoll(struct pollfd* p, nfds_t n, const struct timespec* t, const sigset_t* s) {
  count(F_PPOLL);
  return real_ppoll(p, n, t, s);
}
FILE* fopen(const char* p, const char* m) {
  count(F_FOPEN);
  return real_fopen(p, m);
}
FILE* fopen64(const char* p, const char* m) {
  count(F_FOPEN);
  return real_fopen(p, m);
}
size_t fwrite(const void* b, size_t s, size_t n, FILE* f) {
  count(F_FWRITE);
  return real_fwrite(b, s, n, f);
}
int fputs(const char* s, FILE* f) {
  count(F_FPUTS);
  return real_fputs(s, f);
}
int puts(const char* s) {
  count(F_PUTS);
  return real_puts(s);
}
int fprintf(FILE* f, const char* fmt, ...) {
  count(F_FPRINTF);
  va_list ap;
  va_start(ap, fmt);
  const int rc = real_vfprintf(f, fmt, ap);
  va_end(ap);
  return rc;
}
int printf(const char* fmt, ...) {
  count(F_PRINTF);
  va_list ap;
  va_start(ap, fmt);
  const int rc = real_vfprintf(stdout, fmt, ap);
  va_end(ap);
  return rc;
}
int vfprintf(FILE* f, const char* fmt, va_list ap) {
  count(F_VFPRINTF);
  return real_vfprintf(f, fmt, ap);
}
int fflush(FILE* f) {
  count(F_FFLUSH);
  return real_fflush(f);
}
long syscall(long n, ...) {
  count(F_SYSCALL);
  va_list ap;
  va_start(ap, n);
  long a[6];
  for (int i = 0; i < 6; ++i) a[i] = va_arg(ap, long);
  va_end(ap);
  return real_syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
int pthread_create(pthread_t* t, const pthread_attr_t* a, void* (*fn)(void*), void* arg) {
  count(F_PTHREAD_CREATE);
  return real_pthread_create(t, a, fn, arg);
}
int clock_nanosleep(clockid_t c, int fl, const struct timespec* t, struct timespec* r) {
  count(F_CLOCK_NANOSLEEP);
  return real_clock_nanosleep(c, fl, t, r);
}
int nanosleep(const struct timespec* t, struct timespec* r) {
  count(F_NANOSLEEP);
  return real_nanosleep(t, r);
}
int ioctl(int fd, unsigned long req, ...) {
  count(F_IOCTL);
  va_list ap;
  va_start(ap, req);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return real_ioctl(fd, req, arg);
}
int poll(struct pollfd* p, nfds_t n, int t) {
  count(F_POLL);
  return real_poll(p, n, t);
}
