"""ELF images for the system emulator: firmware, kernels, test programs.

As QEMU's load_elf() does for ``-bios`` and ``-kernel``, every PT_LOAD
segment is copied to its *physical* address (p_paddr), the file part
first and then zeros up to p_memsz.  pyelftools parses the file.
"""

import io

from elftools.common.exceptions import ELFError
from elftools.common.utils import struct_parse
from elftools.elf.elffile import ELFFile

from ..errors import PyvirtError
from .image import LoadedImage, place, read_file

ELF_MAGIC = b"\x7fELF"

#: e_machine names as people say them, for error messages.
MACHINE_NAMES = {
    "EM_RISCV": "RISC-V",
    "EM_X86_64": "x86-64",
    "EM_386": "i386",
    "EM_AARCH64": "AArch64",
    "EM_ARM": "ARM",
    "EM_PPC64": "PowerPC64",
    "EM_S390": "s390",
    "EM_MIPS": "MIPS",
    "EM_LOONGARCH": "LoongArch",
}


def is_elf(data: bytes) -> bool:
    return data[:4] == ELF_MAGIC


class WrongMachine(PyvirtError):
    """An ELF file for another architecture or word size."""


def parse_elf(data: bytes, path: str, *, expected_machine: str = "EM_RISCV",
              expected_class: int = 64, what: str = "ELF image"):
    """(ELF header, program headers) of ``data``, checked to be for the expected machine."""
    if not is_elf(data):
        raise PyvirtError(f"could not load {what} '{path}': not an ELF file")
    stream = io.BytesIO(data)
    try:
        elf = ELFFile(stream)
        machine = elf["e_machine"]
        if machine != expected_machine:
            name = MACHINE_NAMES.get(machine, machine)
            want = MACHINE_NAMES.get(expected_machine, expected_machine)
            raise WrongMachine(f"could not load {what} '{path}': "
                               f"it is an ELF for {name}, not {want}")
        if elf.elfclass != expected_class:
            raise WrongMachine(f"could not load {what} '{path}': it is a "
                               f"{elf.elfclass}-bit ELF, expected {expected_class}-bit")
        # Program headers are parsed directly: pyelftools' iter_segments()
        # also reads sections, which a loader has no use for.
        headers = [struct_parse(elf.structs.Elf_Phdr, stream,
                                elf["e_phoff"] + i * elf["e_phentsize"])
                   for i in range(elf.num_segments())]
        return elf.header, headers
    except ELFError as err:
        raise PyvirtError(f"could not load {what} '{path}': "
                          f"truncated or corrupt ELF file ({err})") from None


def load_elf(path: str, address_space, *, expected_machine: str = "EM_RISCV",
             expected_class: int = 64, what: str = "ELF image") -> LoadedImage:
    """Load the ELF file at ``path``; entry is the ELF's e_entry."""
    return load_elf_data(read_file(path, what), path, address_space,
                         expected_machine=expected_machine,
                         expected_class=expected_class, what=what)


def load_elf_data(data: bytes, path: str, address_space, *,
                  expected_machine: str = "EM_RISCV", expected_class: int = 64,
                  what: str = "ELF image") -> LoadedImage:
    """Like load_elf() for a file already read (``path`` names it in errors)."""
    header, headers = parse_elf(data, path, expected_machine=expected_machine,
                                expected_class=expected_class, what=what)
    segments = [h for h in headers if h.p_type == "PT_LOAD" and h.p_memsz > 0]
    entry = header["e_entry"]
    if not segments:
        raise PyvirtError(f"could not load {what} '{path}': no loadable segments")

    images = []     # (address, bytes): all checked before anything is written
    for seg in segments:
        contents = data[seg.p_offset:seg.p_offset + seg.p_filesz]
        if len(contents) != seg.p_filesz:
            raise PyvirtError(f"could not load {what} '{path}': file is truncated "
                              f"(segment at {seg.p_paddr:#x} needs bytes up to "
                              f"{seg.p_offset + seg.p_filesz:#x}, file has {len(data):#x})")
        if seg.p_memsz < seg.p_filesz:
            raise PyvirtError(f"could not load {what} '{path}': bad ELF file (segment "
                              f"at {seg.p_paddr:#x} is larger in the file than in memory)")
        images.append((seg.p_paddr, contents + bytes(seg.p_memsz - seg.p_filesz)))
    for addr, image in images:
        place(address_space, addr, image, f"{what} '{path}'")
    return LoadedImage(entry=entry,
                       low=min(addr for addr, _ in images),
                       high=max(addr + len(image) for addr, image in images))
