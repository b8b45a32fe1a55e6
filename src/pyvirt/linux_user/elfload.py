"""Loading a Linux program: its segments, its ELF interpreter, the initial stack.

What the kernel's binfmt_elf does for a riscv64 process: PT_LOAD segments
are mapped from the file (ET_DYN ones at a chosen base), the interpreter
named by PT_INTERP (looked up under the ``-L`` prefix first) is mapped
wherever mmap puts it, the break starts after the program's bss, and the
stack holds argc, argv, envp and the auxiliary vector the C library reads
at start-up.  ELF parsing is pyelftools' (``loader.elf.parse_elf``).
"""

import os
from dataclasses import dataclass

from ..errors import PyvirtError
from ..loader.elf import WrongMachine, parse_elf
from .memory import (MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PAGE, PROT_EXEC, PROT_READ,
                     PROT_WRITE, page_up)

# auxv entry types (include/uapi/linux/auxvec.h)
AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_HWCAP, AT_CLKTCK = 11, 12, 13, 14, 15, 16, 17
AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN = 23, 25, 26, 31

#: AT_HWCAP: one bit per single-letter extension (the kernel's riscv_hwcap), rv64imafdc.
HWCAP = sum(1 << (ord(c) - ord("A")) for c in "IMAFDC")
DEFAULT_STACK = 8 << 20

PF_X, PF_W, PF_R = 1, 2, 4


class LoadError(PyvirtError):
    """A program that cannot be loaded; ``status`` is qemu-user's exit status for it."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


@dataclass
class Image:
    entry: int
    base: int           # load bias
    phdr: int           # guest address of the program headers
    phnum: int
    end: int            # end of the highest segment
    interp: str | None


def host_path(path, prefix):
    """``path`` as the guest names it, looked up under the ``-L`` prefix first (as QEMU's path())."""
    if prefix and path.startswith("/"):
        candidate = prefix.rstrip("/") + path
        if os.path.lexists(candidate):
            return candidate
    return path


def read_program(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise LoadError(f"{path}: {err.strerror}") from None


def map_image(mem, path, data, fd, base_hint):
    """Map the ELF in ``data`` (open as ``fd``); returns its Image."""
    try:
        header, phdrs = parse_elf(data, path, what="program")
    except WrongMachine:
        raise LoadError(f"{path}: Invalid ELF image for this architecture", 255) from None
    except PyvirtError as err:
        raise LoadError(f"{path}: {err}".replace(f"could not load program '{path}': ", ""),
                        1) from None
    loads = [p for p in phdrs if p.p_type == "PT_LOAD" and p.p_memsz > 0]
    if not loads:
        raise LoadError(f"{path}: Invalid ELF image: no loadable segments", 1)
    for p in loads:
        if p.p_offset + p.p_filesz > len(data) or p.p_memsz < p.p_filesz:
            raise LoadError(f"{path}: truncated or corrupt ELF file", 1)
    interp = None
    for p in phdrs:
        if p.p_type == "PT_INTERP":
            interp = data[p.p_offset:p.p_offset + p.p_filesz].split(b"\0")[0].decode()
    lo = min(p.p_vaddr for p in loads) & ~(PAGE - 1)
    hi = page_up(max(p.p_vaddr + p.p_memsz for p in loads))
    bias = 0
    if header["e_type"] == "ET_DYN":
        start = base_hint if base_hint is not None and mem.is_free(base_hint, hi - lo) \
            else mem.find_free(hi - lo)
        if start is None:
            raise LoadError(f"{path}: not enough guest address space", 1)
        bias = start - lo
    elif not mem.is_free(lo, hi - lo):
        raise LoadError(f"{path}: segments outside the guest address space", 1)
    for p in loads:
        prot = (PROT_READ if p.p_flags & PF_R else 0) | (PROT_WRITE if p.p_flags & PF_W else 0) \
            | (PROT_EXEC if p.p_flags & PF_X else 0)
        vaddr = bias + p.p_vaddr
        start = vaddr & ~(PAGE - 1)
        file_end = vaddr + p.p_filesz
        mem_end = page_up(vaddr + p.p_memsz)
        if p.p_filesz:
            mem.map(start, file_end - start, prot, MAP_PRIVATE | MAP_FIXED, fd,
                    p.p_offset - (vaddr - start))
            # the rest of the last file page is bss, not what follows in the file
            tail = page_up(file_end) - file_end
            if p.p_memsz > p.p_filesz and tail:
                mem.write(file_end, bytes(tail))
        anon = page_up(file_end) if p.p_filesz else start
        if mem_end > anon:
            mem.map(anon, mem_end - anon, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    phdr = None
    for p in phdrs:
        if p.p_type == "PT_PHDR":
            phdr = bias + p.p_vaddr
    if phdr is None:
        first = min(loads, key=lambda p: p.p_vaddr)
        phdr = bias + first.p_vaddr - first.p_offset + header["e_phoff"]
    return Image(entry=bias + header["e_entry"], base=bias, phdr=phdr, phnum=len(phdrs),
                 end=bias + max(p.p_vaddr + p.p_memsz for p in loads), interp=interp)


def load_file(mem, path, base_hint=None):
    data = read_program(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        return map_image(mem, path, data, fd, base_hint)
    finally:
        os.close(fd)


@dataclass
class Loaded:
    entry: int          # where the first instruction runs (the interpreter's, if any)
    sp: int
    main: Image
    interp_base: int


def load_program(mem, path, argv, envp, *, prefix=None, stack_size=DEFAULT_STACK,
                 execfn=None):
    """Load ``path`` with its interpreter and build the initial stack."""
    stack_top = mem.size - PAGE
    stack_size = page_up(stack_size)
    mem.map(stack_top - stack_size, stack_size, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    # an ET_DYN program goes at 2/3 of the space, as Linux's ELF_ET_DYN_BASE
    main = load_file(mem, path, (mem.size // 3 * 2) & ~0xFFFFF)
    mem.brk_start = mem.brk = page_up(main.end)
    entry, interp_base = main.entry, 0
    if main.interp:
        ipath = host_path(main.interp, prefix)
        if not os.path.exists(ipath):
            raise LoadError(f"Could not open '{main.interp}': No such file or directory", 255)
        interp = load_file(mem, ipath)
        entry, interp_base = interp.entry, interp.base
    sp = build_stack(mem, stack_top, argv, envp, [
        (AT_PHDR, main.phdr), (AT_PHENT, 56), (AT_PHNUM, main.phnum), (AT_PAGESZ, PAGE),
        (AT_BASE, interp_base), (AT_FLAGS, 0), (AT_ENTRY, main.entry),
        (AT_UID, os.getuid()), (AT_EUID, os.geteuid()), (AT_GID, os.getgid()),
        (AT_EGID, os.getegid()), (AT_HWCAP, HWCAP), (AT_CLKTCK, 100), (AT_SECURE, 0),
    ], execfn or path)
    return Loaded(entry=entry, sp=sp, main=main, interp_base=interp_base)


def build_stack(mem, top, argv, envp, auxv, execfn):
    """Write strings, AT_RANDOM bytes and the argc/argv/envp/auxv block below ``top``."""
    pos = top

    def push(data):
        nonlocal pos
        pos -= len(data)
        mem.write(pos, data)
        return pos

    execfn_addr = push(os.fsencode(execfn) + b"\0")
    arg_ptrs = [push(os.fsencode(a) + b"\0") for a in argv]
    env_ptrs = [push(os.fsencode(e) + b"\0") for e in envp]
    pos &= ~15
    random_addr = push(os.urandom(16))
    auxv = auxv + [(AT_RANDOM, random_addr), (AT_EXECFN, execfn_addr), (AT_NULL, 0)]
    words = [len(argv)] + arg_ptrs + [0] + env_ptrs + [0] + [v for pair in auxv for v in pair]
    pos = (pos - 8 * len(words)) & ~15
    mem.write(pos, b"".join(w.to_bytes(8, "little") for w in words))
    return pos
