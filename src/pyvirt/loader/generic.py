"""``-device loader``: QEMU's generic loader (hw/core/generic-loader.c).

One device, three uses, told apart by which properties are given:

* ``file=F[,addr=A][,cpu-num=N][,force-raw=on]`` loads an image: an ELF
  where its headers say (unless force-raw), else the raw bytes at ``addr``;
  with ``cpu-num`` that CPU starts at the image's entry.
* ``data=V,data-len=L,addr=A[,data-be=on]`` stores an L-byte value at A.
* ``addr=A,cpu-num=N`` makes CPU N start at A.

The board applies the returned ``pc`` to the named CPU at reset.
"""

from dataclasses import dataclass

from ..errors import PyvirtError
from .elf import is_elf, load_elf_data
from .image import place, read_file
from .raw import load_raw_data

PROPERTIES = ("driver", "id", "file", "addr", "data", "data-len", "data-be",
              "cpu-num", "force-raw")
MAX_DATA_LEN = 8


@dataclass(frozen=True)
class GenericLoad:
    """What the board still has to do for one ``-device loader``."""

    cpu_num: int | None     # CPU whose pc to set, if any
    pc: int | None


def generic_loader(props: dict, address_space, *, xlen: int = 64) -> GenericLoad:
    """Carry out one ``-device loader,...`` (its parsed key=value list)."""
    unknown = sorted(set(props) - set(PROPERTIES))
    if unknown:
        raise PyvirtError(f"-device loader: property '{unknown[0]}' not found")
    path = props.get("file")
    addr = _number(props, "addr")
    data = _number(props, "data")
    data_len = _number(props, "data-len")
    data_be = _flag(props, "data-be")
    cpu_num = _number(props, "cpu-num")
    force_raw = _flag(props, "force-raw")

    if data is not None or data_len is not None:
        if path is not None or force_raw:
            raise PyvirtError("-device loader: a file cannot be given when storing "
                              "a data value")
        if data is None or data_len is None or addr is None:
            raise PyvirtError("-device loader: data, data-len and addr must be "
                              "given together")
        if not 1 <= data_len <= MAX_DATA_LEN:
            raise PyvirtError(f"-device loader: data-len must be 1 to {MAX_DATA_LEN} bytes")
        value = (data & ((1 << (8 * data_len)) - 1)).to_bytes(
            data_len, "big" if data_be else "little")
        place(address_space, addr, value, "-device loader data")
        return GenericLoad(cpu_num=cpu_num, pc=None)

    if path is not None:
        contents = read_file(path, "image")
        if is_elf(contents) and not force_raw:
            entry = load_elf_data(contents, path, address_space,
                                  expected_class=xlen, what="image").entry
        elif addr is None:
            raise PyvirtError(f"-device loader: '{path}' is not an ELF file, "
                              "so addr= is needed to place it")
        else:
            entry = load_raw_data(contents, path, address_space, addr).entry
        return GenericLoad(cpu_num=cpu_num, pc=entry if cpu_num is not None else None)

    if addr is not None and cpu_num is not None:
        return GenericLoad(cpu_num=cpu_num, pc=addr)
    raise PyvirtError("-device loader: give file=, or data=,data-len=,addr=, "
                      "or addr=,cpu-num=")


def _number(props: dict, key: str) -> int | None:
    text = props.get(key)
    if text is None:
        return None
    try:
        return int(text, 0)
    except ValueError:
        raise PyvirtError(f"-device loader: {key}={text}: not a number") from None


def _flag(props: dict, key: str) -> bool:
    text = props.get(key, "off")
    if text in ("on", "yes", "true"):
        return True
    if text in ("off", "no", "false"):
        return False
    raise PyvirtError(f"-device loader: {key}={text}: expected on or off")
