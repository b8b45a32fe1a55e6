"""SiFive test finisher: poweroff, failure exit codes and reset requests."""

from pyvirt.hw.misc import sifive_test as t
from pyvirt.hw.misc.sifive_test import SiFiveTest


def make():
    calls = []
    return SiFiveTest(lambda kind, code: calls.append((kind, code))), calls


def test_finisher_commands():
    dev, calls = make()
    dev.write(0, 4, 0x5555)                  # OpenSBI / Linux poweroff
    dev.write(0, 4, (3 << 16) | 0x3333)      # failure with exit code 3
    dev.write(0, 4, 0x7777)                  # reset
    assert calls == [(t.POWEROFF, 0), (t.FAIL, 3), (t.RESET, 0)]


def test_other_writes_and_reads_do_nothing():
    dev, calls = make()
    dev.write(0, 4, 0x1234)
    dev.write(4, 4, 0x5555)
    assert calls == [] and dev.read(0, 4) == 0
