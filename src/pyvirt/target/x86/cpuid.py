"""CPUID for KVM guests: what the kernel supports, filtered by ``-cpu``.

The guest sees ``KVM_GET_SUPPORTED_CPUID`` (QEMU's ``-cpu host``) with
the hypervisor bit set, its own APIC ID in leaves 1 and 0xB, and the
features ``-cpu host,+name,-name`` turn on or off.  Feature names are
QEMU's (and /proc/cpuinfo's); only ones this table knows are accepted.
"""

from ...errors import PyvirtError

EAX, EBX, ECX, EDX = "eax", "ebx", "ecx", "edx"

#: feature name -> (leaf, subleaf, register, bit)
FEATURES = {}
for _leaf, _reg, _names in (
    (1, EDX, "fpu vme de pse tsc msr pae mce cx8 apic - sep mtrr pge mca cmov pat pse36 - "
             "clflush - - - mmx fxsr sse sse2 ss ht"),
    (1, ECX, "sse3 pclmulqdq dtes64 monitor ds-cpl vmx smx est tm2 ssse3 cid - fma cx16 xtpr "
             "pdcm - pcid dca sse4.1 sse4.2 x2apic movbe popcnt tsc-deadline aes xsave osxsave "
             "avx f16c rdrand hypervisor"),
    (7, EBX, "fsgsbase tsc-adjust - bmi1 hle avx2 - smep bmi2 erms invpcid rtm - - mpx - "
             "avx512f avx512dq rdseed adx smap"),
    (0x80000001, EDX, "- - - - - - - - - - - syscall - - - - - - - - nx - mmxext - - - "
                      "pdpe1gb rdtscp - lm"),
    (0x80000001, ECX, "lahf-lm - - - - abm sse4a misalignsse 3dnowprefetch"),
):
    for _bit, _name in enumerate(_names.split()):
        if _name != "-":
            FEATURES[_name] = (_leaf, 0, _reg, _bit)

HYPERVISOR = FEATURES["hypervisor"]
MODELS = ("host", "max")


def parse_cpu(spec):
    """``-cpu host,-xsave,+foo`` -> {feature: on?}.  None means the default (host)."""
    if spec is None:
        return {}
    model, *props = spec.split(",")
    if model not in MODELS:
        raise PyvirtError(f"unable to find CPU model '{model}' (with -accel kvm: "
                          f"{', '.join(MODELS)})")
    changes = {}
    for prop in props:
        if prop[:1] in "+-":
            name, on = prop[1:], prop[0] == "+"
        else:
            name, _, value = prop.partition("=")
            if value not in ("", "on", "off", "true", "false"):
                raise PyvirtError(f"-cpu {spec}: property '{name}' expects on or off")
            on = value in ("", "on", "true")
        name = name.replace("_", "-")
        if name not in FEATURES:
            raise PyvirtError(f"-cpu {spec}: unknown CPU feature '{name}'")
        changes[name] = on
    return changes


def _entry(entries, leaf, subleaf):
    for e in entries:
        if e.function == leaf and e.index == subleaf:
            return e
    return None


def guest_cpuid(supported, changes, apic_id):
    """The entries for one vCPU: a copy of ``supported`` with ``changes`` applied."""
    entries = [type(e).from_buffer_copy(e) for e in supported]
    for name, on in [("hypervisor", True), *changes.items()]:
        leaf, subleaf, reg, bit = FEATURES[name]
        e = _entry(entries, leaf, subleaf)
        if e is None:
            continue
        value = getattr(e, reg)
        setattr(e, reg, value | (1 << bit) if on else value & ~(1 << bit))
    leaf1 = _entry(entries, 1, 0)
    if leaf1 is not None:
        leaf1.ebx = (leaf1.ebx & 0x00FFFFFF) | (apic_id << 24)
    for e in entries:
        if e.function in (0xB, 0x1F):
            e.edx = apic_id
    return entries
