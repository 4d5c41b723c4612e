// SPDX-License-Identifier: GPL-2.0
// rampart runtime sensor: process lifecycle and selected syscall exits,
// sent to user space over one ring buffer. The record layout is described
// in crates/runtime/README.md and parsed by src/sensor/parse.rs; keep the
// three in step (bump SENSOR_ABI when the layout changes).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define SENSOR_ABI 2

#define KIND_SYSCALL 1
#define KIND_EXEC 2
#define KIND_FORK 3
#define KIND_EXIT 4

#define TAG_PATH1 1    /* first user path argument */
#define TAG_PATH2 2    /* second user path argument */
#define TAG_PATH3 3    /* third user string argument (mount fstype) */
#define TAG_DIR1 4     /* directory a relative PATH1 is resolved against */
#define TAG_DIR2 5     /* directory a relative PATH2 is resolved against */
#define TAG_FILENAME 6 /* execve filename as passed */
#define TAG_EXE 7      /* executable path, components leaf first */
#define TAG_CWD 8      /* working directory, components leaf first */
#define TAG_ARGS 9     /* argv, NUL separated */
#define TAG_EXEINFO 10 /* struct exe_info */
#define TAG_SOCK 11    /* struct sock_info from the kernel socket */
#define TAG_SOCKADDR 12 /* raw struct sockaddr from user memory */
#define TAG_FDPATH 13  /* path of the fd argument / result, leaf first */
#define TAG_PIDS 14    /* struct pid_info of an exec'd process */

#define DATA_SIZE 16384
#define DATA_MASK (DATA_SIZE - 1)
#define MAX_STR 4096
#define MAX_NAME 256
#define MAX_DEPTH 40
#define NR_MAX 512

#define AT_FDCWD -100
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define AF_INET 2
#define AF_INET6 10


struct event {
	u64 ts;
	u64 cgroup_id;
	s64 ret;
	u64 args[6];
	u64 cap_effective;
	u64 start_time;
	u32 abi;
	u32 kind;
	u32 nr;
	u32 pid;
	u32 tid;
	u32 ppid;
	u32 uid;
	u32 gid;
	u32 loginuid;
	u32 tty;
	u32 fd_mode;
	u32 data_len;
	char comm[16];
	u8 data[DATA_SIZE + MAX_STR];
};

#define HDR_SIZE (sizeof(struct event) - DATA_SIZE - MAX_STR)

struct exe_info {
	u64 ino;
	s64 ctime_sec;
	s64 mtime_sec;
	u32 s_magic;
	u32 nlink;
	u32 upper;
	u32 mode;
};

struct pid_info {
	u32 pgid;
	u32 sid;
	u32 vpid; /* the pid in the process's own pid namespace */
	u32 pad;
};

struct sock_info {
	u16 family;
	u16 type;
	u16 proto;
	u16 lport;
	u16 rport;
	u16 pad;
	u8 laddr[16];
	u8 raddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, u32);
	__type(value, u8);
} enabled SEC(".maps"); /* 1: the syscall's exit is captured */

/* index 0: the sensor's own tgid, whose events are skipped; index 1: 1 when
 * `open_paths` filters opens */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u32);
} sensor_config SEC(".maps");

/* Opens the rules can match, by path: a key is a path prefix, or a whole
 * path with its NUL; the value (filled by user space with what every
 * shorter matching key allows) is OPEN_ANY_FLAGS and/or flag bits of which
 * one must be set. Only plain absolute paths are looked up. */
#define MAX_KEY 128
#define OPEN_ANY_FLAGS (1ULL << 32)
struct path_key {
	u32 prefixlen;
	u8 data[MAX_KEY];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_key);
	__type(value, u64);
} open_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct path_key);
} path_scratch SEC(".maps");


static __always_inline bool is_self(u32 tgid)
{
	u32 k = 0;
	u32 *self = bpf_map_lookup_elem(&sensor_config, &k);
	return self && *self == tgid;
}

static __always_inline void count_drop(void)
{
	u32 k = 0;
	u64 *d = bpf_map_lookup_elem(&drops, &k);
	if (d)
		*d += 1;
}

/* Fields are read through the task's BTF pointers (plain loads the JIT
 * guards) rather than bpf_probe_read_kernel calls: with retpolines every
 * helper call costs tens of nanoseconds, paid on each captured syscall. */
static __always_inline u32 tty_nr(struct task_struct *t)
{
	struct tty_struct *tty = t->signal->tty;
	if (!tty)
		return 0;
	int index = tty->index;
	struct tty_driver *drv = tty->driver;
	if (!drv)
		return 0;
	int major = drv->major;
	int minor = drv->minor_start + index;
	/* the encoding of /proc/<pid>/stat field 7 */
	return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}

static __always_inline struct event *new_event(u32 kind, u32 nr)
{
	u32 k = 0;
	struct event *e = bpf_map_lookup_elem(&scratch, &k);
	if (!e)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	u64 pid_tgid = bpf_get_current_pid_tgid();
	e->abi = SENSOR_ABI;
	e->ts = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->ret = 0;
	e->kind = kind;
	e->nr = nr;
	e->pid = pid_tgid >> 32;
	e->tid = (u32)pid_tgid;
	e->ppid = t->real_parent->tgid;
	const struct cred *cred = t->cred;
	e->uid = cred->euid.val;
	e->gid = cred->egid.val;
	e->cap_effective = cred->cap_effective.val;
	e->loginuid = t->loginuid.val;
	e->start_time = t->group_leader->start_boottime;
	e->tty = tty_nr(t);
	e->fd_mode = 0;
	e->data_len = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	return e;
}

/* Masks an offset in a way clang cannot fold away, so the verifier sees it
 * bounded. */
static __always_inline u64 bound(u64 v)
{
	asm volatile("%0 &= 0x3fff" : "+r"(v));
	return v;
}

static __always_inline void put_hdr(struct event *e, u32 off, u8 tag, u32 len)
{
	e->data[bound(off)] = tag;
	e->data[bound(off + 1)] = len & 0xff;
	e->data[bound(off + 2)] = (len >> 8) & 0xff;
}

static __always_inline void submit(struct event *e)
{
	u64 size = HDR_SIZE + e->data_len;
	if (size > sizeof(*e))
		size = sizeof(*e);
	/* user space polls; waking it for every record would cost an
	 * irq_work per event */
	if (bpf_ringbuf_output(&events, e, size, BPF_RB_NO_WAKEUP))
		count_drop();
}

/* Appends a user-space string; returns its offset in data or -1. */
static __noinline int put_user_str(struct event *e, u8 tag, u64 ptr)
{
	if (!e)
		return -1;
	u64 off = e->data_len;
	if (off + 3 >= DATA_SIZE)
		return -1;
	long n = 0;
	if (ptr)
		n = bpf_probe_read_user_str(&e->data[bound(off + 3)], MAX_STR,
					    (const void *)ptr);
	if (n < 0)
		n = 0;
	n &= (2 * MAX_STR - 1);
	put_hdr(e, off, tag, n);
	e->data_len = off + 3 + n;
	return off + 3;
}

static __noinline int put_kernel_str(struct event *e, u8 tag, u64 ptr)
{
	if (!e)
		return -1;
	u64 off = e->data_len;
	if (off + 3 >= DATA_SIZE)
		return -1;
	long n = 0;
	if (ptr)
		n = bpf_probe_read_kernel_str(&e->data[bound(off + 3)], MAX_STR,
					      (const void *)ptr);
	if (n < 0)
		n = 0;
	n &= (2 * MAX_STR - 1);
	put_hdr(e, off, tag, n);
	e->data_len = off + 3 + n;
	return off + 3;
}

static __noinline int put_blob(struct event *e, u8 tag, const void *src, u32 len)
{
	if (!e || !src)
		return -1;
	u64 off = e->data_len;
	if (off + 3 >= DATA_SIZE)
		return -1;
	len &= 63;
	if (len == 0)
		return -1;
	if (bpf_probe_read_kernel(&e->data[bound(off + 3)], len, src))
		return -1;
	put_hdr(e, off, tag, len);
	e->data_len = off + 3 + len;
	return 0;
}

/* Appends user memory (argv) of at most MAX_STR - 1 bytes. */
static __noinline int put_user_mem(struct event *e, u8 tag, u64 ptr, u64 len)
{
	if (!e)
		return -1;
	u64 off = e->data_len;
	if (off + 3 >= DATA_SIZE)
		return -1;
	if (len > MAX_STR - 1)
		len = MAX_STR - 1;
	len &= (MAX_STR - 1);
	if (len == 0 || !ptr)
		return -1;
	if (bpf_probe_read_user(&e->data[bound(off + 3)], len, (const void *)ptr))
		return -1;
	put_hdr(e, off, tag, len);
	e->data_len = off + 3 + len;
	return 0;
}

/*
 * Appends the path of (dentry, vfsmount) as NUL-terminated components, leaf
 * first, stopping at the task's root so a chrooted or containerised process
 * gets the path it sees. User space reverses the components.
 */
static __noinline int put_path(struct event *e, u8 tag, u64 dentry_p, u64 vfsmnt_p)
{
	if (!e)
		return -1;
	struct task_struct *t = bpf_get_current_task_btf();
	struct dentry *root_d = BPF_CORE_READ(t, fs, root.dentry);
	struct vfsmount *root_m = BPF_CORE_READ(t, fs, root.mnt);
	struct dentry *dentry = (struct dentry *)dentry_p;
	struct vfsmount *vfsmnt = (struct vfsmount *)vfsmnt_p;
	struct mount *mnt = container_of(vfsmnt, struct mount, mnt);
	u64 start = e->data_len;
	if (start + 3 >= DATA_SIZE)
		return -1;
	u64 pos = start + 3;
	for (int i = 0; i < MAX_DEPTH; i++) {
		if (!dentry)
			break;
		if (dentry == root_d && vfsmnt == root_m)
			break;
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		if (dentry == mnt_root) {
			struct mount *parent = BPF_CORE_READ(mnt, mnt_parent);
			if (!parent || parent == mnt)
				break;
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = parent;
			vfsmnt = (struct vfsmount *)__builtin_preserve_access_index(&parent->mnt);
			continue;
		}
		struct dentry *parent_d = BPF_CORE_READ(dentry, d_parent);
		const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
		if (pos >= DATA_SIZE)
			break;
		long n = bpf_probe_read_kernel_str(&e->data[bound(pos)], MAX_NAME, name);
		if (n <= 0)
			break;
		pos += n;
		if (parent_d == dentry)
			break;
		dentry = parent_d;
	}
	u32 len = pos - start - 3;
	put_hdr(e, start, tag, len);
	e->data_len = pos;
	return 0;
}

static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct files_struct *files = t->files;
	if (!files || fd < 0)
		return 0;
	struct fdtable *fdt = files->fdt;
	if (!fdt)
		return 0;
	unsigned int max = fdt->max_fds;
	if (fd >= max)
		return 0;
	struct file **arr = fdt->fd;
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f;
}

static __noinline int put_fd_path(struct event *e, u8 tag, long fd)
{
	struct file *f = fd_file(fd);
	if (!f || !e)
		return -1;
	return put_path(e, tag, (u64)BPF_CORE_READ(f, f_path.dentry),
			(u64)BPF_CORE_READ(f, f_path.mnt));
}

static __noinline int put_cwd(struct event *e, u8 tag)
{
	struct task_struct *t = bpf_get_current_task_btf();
	return put_path(e, tag, (u64)BPF_CORE_READ(t, fs, pwd.dentry),
			(u64)BPF_CORE_READ(t, fs, pwd.mnt));
}

/* Records the mode of fd and, for sockets, their addresses. */
static __noinline int put_sock(struct event *e, long fd)
{
	struct file *f = fd_file(fd);
	if (!f || !e)
		return -1;
	u32 mode = BPF_CORE_READ(f, f_inode, i_mode);
	e->fd_mode = mode;
	if ((mode & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	struct sock_info si = {};
	si.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	si.type = BPF_CORE_READ(sock, type);
	si.proto = BPF_CORE_READ(sk, sk_protocol);
	si.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	si.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (si.family == AF_INET) {
		BPF_CORE_READ_INTO(&si.laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO(&si.raddr, sk, __sk_common.skc_daddr);
	} else if (si.family == AF_INET6) {
		BPF_CORE_READ_INTO(&si.laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&si.raddr, sk, __sk_common.skc_v6_daddr);
	}
	return put_blob(e, TAG_SOCK, &si, sizeof(si));
}

static __always_inline void put_fd_mode(struct event *e, long fd)
{
	struct file *f = fd_file(fd);
	if (f)
		e->fd_mode = BPF_CORE_READ(f, f_inode, i_mode);
}

/* A user path plus, when relative, the directory it is relative to. */
static __always_inline void put_at_path(struct event *e, u8 tag, u8 dirtag, long dirfd, u64 ptr)
{
	int off = put_user_str(e, tag, ptr);
	if (off < 0)
		return;
	if (e->data[bound(off)] == '/')
		return;
	if (dirfd == AT_FDCWD)
		put_cwd(e, dirtag);
	else
		put_fd_path(e, dirtag, dirfd);
}

/* Whether an open goes to user space: the filter is off, the rules may
 * match it, or its path is not plain (relative, `//`, `/.`, `..`, a trailing
 * `/`, longer than a key), which only user space resolves. */
static __noinline int open_wanted(u64 upath, u64 flags)
{
	u32 k = 1;
	u32 *on = bpf_map_lookup_elem(&sensor_config, &k);
	if (!on || !*on)
		return 1;
	k = 0;
	struct path_key *key = bpf_map_lookup_elem(&path_scratch, &k);
	if (!key)
		return 1;
	long n = bpf_probe_read_user_str(key->data, MAX_KEY, (const void *)upath);
	if (n < 2 || n >= MAX_KEY || key->data[0] != '/')
		return 1;
	u8 prev = 0;
	for (int i = 0; i < MAX_KEY; i++) {
		u8 c = key->data[i];
		if (c == 0)
			break;
		if (prev == '/' && (c == '/' || c == '.'))
			return 1;
		if (prev == '.' && c == '.')
			return 1;
		prev = c;
	}
	if (prev == '/')
		return 1;
	key->prefixlen = MAX_KEY * 8;
	u64 *need = bpf_map_lookup_elem(&open_paths, key);
	if (!need)
		return 0;
	return (*need & OPEN_ANY_FLAGS) || (*need & flags & 0xffffffff);
}

/* The syscall the current task is in (exec and fork events are named
 * after it), when it is one of a, b, c, d; otherwise a. */
static __always_inline u32 current_nr(u32 a, u32 b, u32 c, u32 d)
{
	struct pt_regs *r = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!r)
		return a;
	long nr = r->orig_ax;
	return (nr == b || nr == c || nr == d) ? nr : a;
}

/*
 * Only the syscall exit is traced: the arguments are still in the saved user
 * registers then, so there is no entry program and no per-task state, and a
 * syscall the rules do not need costs one array lookup.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	long id = regs->orig_ax;
	if (id < 0 || id >= NR_MAX)
		return 0;
	u32 nr = id;
	u8 *on = bpf_map_lookup_elem(&enabled, &nr);
	if (!on || !*on)
		return 0;
	if (is_self(bpf_get_current_pid_tgid() >> 32))
		return 0;
	u64 args[6];
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
	switch (nr) {
	case 56: /* clone */
	case 57: /* fork */
	case 58: /* vfork */
	case 435: /* clone3: sched_process_fork reports these */
		return 0;
	case 59: /* execve */
	case 322: /* execveat: success is reported by sched_process_exec; a
		   * failed exec (a shell's PATH search) is not a new program,
		   * and Falco's rules do not expect it */
		return 0;
	}
	/* opens no rule can match stop here, before any record is built */
	switch (nr) {
	case 2: /* open(path, flags) */
		if (!open_wanted(args[0], args[1]))
			return 0;
		break;
	case 85: /* creat(path, mode): O_CREAT|O_WRONLY|O_TRUNC */
		if (!open_wanted(args[0], 01101))
			return 0;
		break;
	case 257: /* openat(dirfd, path, flags) */
		if (!open_wanted(args[1], args[2]))
			return 0;
		break;
	case 437: { /* openat2(dirfd, path, how): flags first in how */
		u64 how_flags = 0;
		bpf_probe_read_user(&how_flags, sizeof(how_flags), (const void *)args[2]);
		if (!open_wanted(args[1], how_flags))
			return 0;
		break;
	}
	}
	struct event *e = new_event(KIND_SYSCALL, nr);
	if (!e)
		return 0;
	e->ret = ret;
	for (int i = 0; i < 6; i++)
		e->args[i] = args[i];
	u64 *a = args;
	switch (nr) {
	case 2:  /* open */
	case 85: /* creat */
	case 84: /* rmdir */
	case 83: /* mkdir */
	case 87: /* unlink */
	case 90: /* chmod */
	case 80: /* chdir */
	case 166: /* umount2 */
		put_at_path(e, TAG_PATH1, TAG_DIR1, AT_FDCWD, a[0]);
		break;
	case 257: /* openat */
	case 258: /* mkdirat */
	case 263: /* unlinkat */
	case 268: /* fchmodat */
		put_at_path(e, TAG_PATH1, TAG_DIR1, (int)a[0], a[1]);
		break;
	case 437: { /* openat2: flags live in struct open_how */
		u64 flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (const void *)a[2]);
		e->args[2] = flags;
		put_at_path(e, TAG_PATH1, TAG_DIR1, (int)a[0], a[1]);
		break;
	}
	case 82: /* rename */
	case 86: /* link */
		put_at_path(e, TAG_PATH1, TAG_DIR1, AT_FDCWD, a[0]);
		put_at_path(e, TAG_PATH2, TAG_DIR2, AT_FDCWD, a[1]);
		break;
	case 264: /* renameat */
	case 316: /* renameat2 */
	case 265: /* linkat */
		put_at_path(e, TAG_PATH1, TAG_DIR1, (int)a[0], a[1]);
		put_at_path(e, TAG_PATH2, TAG_DIR2, (int)a[2], a[3]);
		break;
	case 88: /* symlink(target, linkpath): the target is kept verbatim */
		put_user_str(e, TAG_PATH1, a[0]);
		put_at_path(e, TAG_PATH2, TAG_DIR2, AT_FDCWD, a[1]);
		break;
	case 266: /* symlinkat(target, newdirfd, linkpath) */
		put_user_str(e, TAG_PATH1, a[0]);
		put_at_path(e, TAG_PATH2, TAG_DIR2, (int)a[1], a[2]);
		break;
	case 165: /* mount(source, target, fstype, flags, data) */
		put_user_str(e, TAG_PATH1, a[0]);
		put_at_path(e, TAG_PATH2, TAG_DIR2, AT_FDCWD, a[1]);
		put_user_str(e, TAG_PATH3, a[2]);
		break;
	case 319: /* memfd_create(name, flags) */
		put_user_str(e, TAG_PATH1, a[0]);
		break;
	case 175: /* init_module(image, len, params) */
		put_user_str(e, TAG_PATH1, a[2]);
		break;
	case 313: /* finit_module(fd, params, flags) */
		put_user_str(e, TAG_PATH1, a[1]);
		put_fd_path(e, TAG_FDPATH, (int)a[0]);
		break;
	case 42: { /* connect(fd, addr, len) */
		u64 len = a[2] & 127;
		if (len > 28)
			len = 28;
		put_user_mem(e, TAG_SOCKADDR, a[1], len);
		put_sock(e, (int)a[0]);
		break;
	}
	case 44: { /* sendto(fd, buf, len, flags, addr, addrlen) */
		u64 len = a[5] & 127;
		if (len > 28)
			len = 28;
		if (a[4])
			put_user_mem(e, TAG_SOCKADDR, a[4], len);
		put_sock(e, (int)a[0]);
		break;
	}
	case 46:  /* sendmsg */
	case 49:  /* bind */
	case 50:  /* listen */
		put_sock(e, (int)a[0]);
		break;
	case 43:  /* accept */
	case 288: /* accept4 */
	case 41:  /* socket */
	case 32:  /* dup */
	case 33:  /* dup2 */
	case 292: /* dup3 */
		if (ret >= 0)
			put_sock(e, ret);
		break;
	case 81: /* fchdir */
	case 91: /* fchmod */
		put_fd_path(e, TAG_FDPATH, (int)a[0]);
		break;
	}
	/* the opened file's type, for fd.typechar */
	if ((nr == 2 || nr == 85 || nr == 257 || nr == 437) && ret >= 0)
		put_fd_mode(e, ret);
	submit(e);
	return 0;
}

/* The number of a struct pid at a namespace level. `numbers` is a flexible
 * array, which CO-RE field accesses cannot index: the offset is computed. */
static __always_inline u32 pid_nr(struct pid *p, u32 level)
{
	u32 nr = 0;
	if (!p)
		return 0;
	u64 off = bpf_core_field_offset(struct pid, numbers) +
		  (u64)(level & 31) * bpf_core_type_size(struct upid) +
		  bpf_core_field_offset(struct upid, nr);
	bpf_probe_read_kernel(&nr, sizeof(nr), (void *)p + off);
	return nr;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (is_self(tgid))
		return 0;
	struct event *e = new_event(KIND_EXEC, current_nr(59, 59, 322, 322));
	if (!e)
		return 0;
	struct file *f = BPF_CORE_READ(bprm, file);
	put_kernel_str(e, TAG_FILENAME, (u64)BPF_CORE_READ(bprm, filename));
	put_path(e, TAG_EXE, (u64)BPF_CORE_READ(f, f_path.dentry), (u64)BPF_CORE_READ(f, f_path.mnt));
	put_cwd(e, TAG_CWD);
	u64 as = BPF_CORE_READ(p, mm, arg_start);
	u64 ae = BPF_CORE_READ(p, mm, arg_end);
	if (ae > as)
		put_user_mem(e, TAG_ARGS, as, ae - as);

	struct exe_info xi = {};
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	xi.ino = BPF_CORE_READ(ino, i_ino);
	xi.ctime_sec = BPF_CORE_READ(ino, i_ctime_sec);
	xi.mtime_sec = BPF_CORE_READ(ino, i_mtime_sec);
	xi.s_magic = BPF_CORE_READ(ino, i_sb, s_magic);
	xi.nlink = BPF_CORE_READ(ino, __i_nlink);
	xi.mode = BPF_CORE_READ(ino, i_mode);
	if (xi.s_magic == OVERLAYFS_SUPER_MAGIC) {
		/* an overlay inode with an upper dentry was written (or copied up)
		 * in the container rather than shipped in an image layer */
		struct ovl_inode *oi = container_of(ino, struct ovl_inode, vfs_inode);
		xi.upper = BPF_CORE_READ(oi, __upperdentry) != 0;
	}
	put_blob(e, TAG_EXEINFO, &xi, sizeof(xi));

	/* process group, session and namespaced pid, as of the exec */
	struct pid_info pi = {};
	struct task_struct *cur = bpf_get_current_task_btf();
	struct signal_struct *sig = cur->signal;
	pi.pgid = pid_nr(sig->pids[PIDTYPE_PGID], 0);
	pi.sid = pid_nr(sig->pids[PIDTYPE_SID], 0);
	struct pid *tp = cur->thread_pid;
	if (tp)
		pi.vpid = pid_nr(tp, tp->level);
	put_blob(e, TAG_PIDS, &pi, sizeof(pi));
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	u32 cpid = BPF_CORE_READ(child, pid);
	u32 ctgid = BPF_CORE_READ(child, tgid);
	if (cpid != ctgid) /* a new thread, not a new process */
		return 0;
	u64 pid_tgid = bpf_get_current_pid_tgid();
	if (is_self(pid_tgid >> 32))
		return 0;
	struct event *e = new_event(KIND_FORK, current_nr(56, 57, 58, 435));
	if (!e)
		return 0;
	e->ret = ctgid;
	e->args[0] = BPF_CORE_READ(child, real_parent, tgid);
	e->args[1] = BPF_CORE_READ(child, start_boottime);
	submit(e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	u32 pid = BPF_CORE_READ(p, pid);
	u32 tgid = BPF_CORE_READ(p, tgid);
	if (pid != tgid || is_self(tgid))
		return 0;
	struct event *e = new_event(KIND_EXIT, 0);
	if (!e)
		return 0;
	e->ret = BPF_CORE_READ(p, exit_code);
	submit(e);
	return 0;
}
