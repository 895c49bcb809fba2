package verify

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
)

// elfMachine returns the e_machine of an ELF header.
func elfMachine(head []byte) (elf.Machine, bool) {
	if len(head) < 20 || !bytes.HasPrefix(head, magicELF) {
		return 0, false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if elf.Data(head[elf.EI_DATA]) == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	return elf.Machine(order.Uint16(head[18:20])), true
}

// goArch maps an ELF machine to the config's architecture name.
func goArch(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "amd64"
	case elf.EM_AARCH64:
		return "arm64"
	case elf.EM_386:
		return "386"
	case elf.EM_ARM:
		return "arm"
	case elf.EM_PPC64:
		return "ppc64"
	case elf.EM_S390:
		return "s390x"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return fmt.Sprintf("e_machine %d", m)
}

// interpreter returns the program a #! line runs: with /usr/bin/env, the
// program named after it.
func interpreter(head []byte) (prog string, viaEnv bool) {
	line, ok := bytes.CutPrefix(head, []byte("#!"))
	if !ok {
		return "", false
	}
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return "", false
	}
	if (f[0] == "/usr/bin/env" || f[0] == "/bin/env") && len(f) > 1 {
		args := f[1:]
		if args[0] == "-S" && len(args) > 1 {
			args = args[1:]
		}
		return args[0], true
	}
	return f[0], false
}
