"""The QEMU-style command-line parser."""

import pytest

from pyvirt import __version__
from pyvirt.cli.options import (LOG_ITEMS, OPTIONS, parse_args, parse_ram_size,
                                parse_size)
from pyvirt.errors import PyvirtError

MiB = 1 << 20


def parse(line, **kw):
    return parse_args(line.split(), prog="pyvirt-system-riscv64", **kw)


def test_defaults():
    opts = parse("")
    assert opts.machine is None and opts.kernel is None and opts.log_items is None
    assert opts.nographic is False and opts.start_paused is False
    assert opts.devices == [] and opts.chardevs == [] and opts.serials == []
    assert not hasattr(opts, "h")


def test_single_and_double_dash_are_the_same():
    assert parse("-m 512").memory == parse("--m 512").memory == {"size": 512 * MiB}
    assert parse("--nographic").nographic is True


def test_machine_with_implied_type_and_merging():
    assert parse("-M virt,dumpdtb=f.dtb").machine == {"type": "virt", "dumpdtb": "f.dtb"}
    assert parse("-machine type=virt").machine == {"type": "virt"}
    assert parse("-M virt -machine dumpdtb=x.dtb -M aclint=on").machine == \
        {"type": "virt", "dumpdtb": "x.dtb", "aclint": "on"}


def test_key_value_details():
    opts = parse("-device loader,file=a,,b.bin,addr=0x80000000 -device virtio-rng-device "
                 "-chardev socket,id=c0,server,wait=off")
    assert opts.devices == [{"driver": "loader", "file": "a,b.bin", "addr": "0x80000000"},
                            {"driver": "virtio-rng-device"}]
    assert opts.chardevs == [{"backend": "socket", "id": "c0", "server": "on", "wait": "off"}]
    assert parse("-drive file=d.img,if=none,id=hd0,format=raw").drives == \
        [{"file": "d.img", "if": "none", "id": "hd0", "format": "raw"}]


def test_accel_is_repeatable():
    assert parse("-accel kvm -accel tcg,engine=interp").accels == \
        [{"accel": "kvm"}, {"accel": "tcg", "engine": "interp"}]


@pytest.mark.parametrize("arg, cpus", [("2", {"cpus": 2}), ("cpus=2", {"cpus": 2}),
                                       ("4,sockets=2,cores=2", {"cpus": 4, "sockets": 2,
                                                                "cores": 2})])
def test_smp(arg, cpus):
    assert parse(f"-smp {arg}").smp == cpus


@pytest.mark.parametrize("arg, size", [("512M", 512 * MiB), ("1G", 1 << 30), ("512", 512 * MiB),
                                       ("size=512M", 512 * MiB), ("1.5G", 1536 * MiB),
                                       ("2048k", 2 * MiB), ("0x10", 16 * MiB)])
def test_memory_sizes(arg, size):
    assert parse(f"-m {arg}").memory["size"] == size


def test_memory_other_keys():
    assert parse("-m 1G,slots=2,maxmem=4G").memory == \
        {"size": 1 << 30, "slots": 2, "maxmem": 4 << 30}


def test_size_units():
    assert parse_size("4096") == 4096
    assert parse_size("4K") == parse_size("4k") == 4096
    assert parse_size("1E") == 1 << 60
    assert parse_ram_size("3") == 3 * MiB


def test_strings_and_flags():
    opts = parse("-bios fw_jump.elf -kernel Image -initrd rd.gz -dtb v.dtb -cpu rv64 "
                 "-name guest1 -nographic -display none -no-reboot -S -nodefaults "
                 "-serial mon:stdio -serial null -monitor none -debugcon file:dbg.log "
                 "-D pyvirt.log -icount shift=auto -gdb tcp::4321")
    assert (opts.bios, opts.kernel, opts.initrd, opts.dtb, opts.cpu) == \
        ("fw_jump.elf", "Image", "rd.gz", "v.dtb", "rv64")
    assert opts.name == {"guest": "guest1"}
    assert opts.display == {"type": "none"}
    assert opts.nographic and opts.no_reboot and opts.start_paused and opts.nodefaults
    assert opts.serials == ["mon:stdio", "null"]
    assert opts.monitors == ["none"]
    assert opts.debugcon == "file:dbg.log"
    assert opts.log_file == "pyvirt.log"
    assert opts.icount == {"shift": "auto"}
    assert opts.gdb == "tcp::4321"


def test_an_argument_may_start_with_a_dash():
    opts = parse_args(["-append", "-v console=ttyS0", "-kernel", "Image"], prog="p")
    assert opts.append == "-v console=ttyS0"


def test_gdb_shorthand():
    assert parse("-s").gdb == "tcp::1234"


def test_log_items():
    assert parse("-d in_asm,int,exec,cpu,guest_errors,unimp").log_items == \
        ("in_asm", "int", "exec", "cpu", "guest_errors", "unimp")
    assert parse("-d int,int").log_items == ("int",)
    assert parse("-d all").log_items == tuple(LOG_ITEMS)


@pytest.mark.parametrize("line, message", [
    ("-foo", "-foo: invalid option"),
    ("--foo", "--foo: invalid option"),
    ("-m", "-m: requires an argument"),
    ("-kernel", "-kernel: requires an argument"),
    ("-m 12X", "-m 12X: Parameter 'size' expects a size"),
    ("-m size=", "-m size=: Parameter 'size' expects a size"),
    ("-m 1G,colour=red", "-m 1G,colour=red: Invalid parameter 'colour'"),
    ("-m 1G,slots=x", "Parameter 'slots' expects a number"),
    ("-smp x", "-smp x: Parameter 'cpus' expects a number"),
    ("-smp -1", "Parameter 'cpus' expects a number"),
    ("-smp 2,cpu=2", "Invalid parameter 'cpu'"),
    ("-d in_asm,bogus", "-d in_asm,bogus: unknown logging item 'bogus'"),
    ("disk.img", "disk.img: unexpected argument"),
    ("-m=512", "-m=512: invalid option"),
])
def test_errors(line, message):
    with pytest.raises(PyvirtError) as info:
        parse(line)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_front_end_subset():
    accept = ["kernel", "m", "d"]
    opts = parse("-kernel k -m 64", accept=accept)
    assert opts.kernel == "k" and not hasattr(opts, "devices")
    with pytest.raises(PyvirtError, match="-device: invalid option"):
        parse("-device loader", accept=accept)
    assert parse("-M virt", accept=["M"]).machine == {"type": "virt"}
    with pytest.raises(ValueError):
        parse("", accept=["nonsense"])


@pytest.mark.parametrize("flag", ["-h", "-help", "--help"])
def test_help(flag, capsys):
    with pytest.raises(SystemExit) as info:
        parse(f"-m 64 {flag} -bogus")
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: pyvirt-system-riscv64 [options]")
    assert "-machine, -M [type=]name[,prop=value...]" in out
    for spec in OPTIONS:
        assert spec.help in out


def test_help_lists_only_the_accepted_options(capsys):
    with pytest.raises(SystemExit):
        parse("-h", accept=["kernel"])
    out = capsys.readouterr().out
    assert "-kernel file" in out and "-device" not in out


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        parse("-version")
    assert info.value.code == 0
    assert capsys.readouterr().out == f"pyvirt-system-riscv64 version {__version__}\n"


def test_log_help(capsys):
    with pytest.raises(SystemExit) as info:
        parse("-d help")
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("Log items (comma separated):")
    assert all(item in out for item in LOG_ITEMS)


def test_table_has_no_duplicate_names():
    names = [n for spec in OPTIONS for n in (spec.name, *spec.aliases)]
    assert len(names) == len(set(names))
