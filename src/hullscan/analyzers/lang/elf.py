"""The parts of an ELF file the binary analyzers need (Go build info, Rust dependency lists):
loadable segments, a section's bytes by name, virtual addresses mapped to file offsets.

ELF structure is read with pyelftools; any failure on a hostile file is a ``ParseError``.
"""

from __future__ import annotations

import io

from hullscan.errors import ParseError

PF_X, PF_W = 1, 2


class ElfImage:
    """An ELF file held in memory (``data``), parsed once."""

    def __init__(self, data: bytes) -> None:
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile

        self.data = data
        try:
            self._elf = ELFFile(io.BytesIO(data))
            self.loads = [
                (s["p_vaddr"], s["p_offset"], s["p_filesz"], s["p_flags"])
                for s in self._elf.iter_segments()
                if s["p_type"] == "PT_LOAD"
            ]
        except (ELFError, ValueError, KeyError, IndexError, TypeError, AssertionError) as exc:
            raise ParseError(f"not a readable ELF file ({exc})") from None
        except Exception as exc:  # construct's parse errors share no public base class
            raise ParseError(f"not a readable ELF file ({type(exc).__name__})") from None

    def section(self, name: str) -> tuple[int, int, int] | None:
        """(address, file offset, size) of a section with contents, None when absent."""
        try:
            sec = self._elf.get_section_by_name(name)
            if sec is None or sec["sh_type"] == "SHT_NOBITS":
                return None
            addr, offset, size = sec["sh_addr"], sec["sh_offset"], sec["sh_size"]
        except Exception as exc:  # see __init__
            raise ParseError(f"not a readable ELF file ({type(exc).__name__})") from None
        if offset < 0 or size < 0 or offset + size > len(self.data):
            raise ParseError(f"section {name} runs past the end of the file")
        return addr, offset, size

    def section_bytes(self, name: str, limit: int) -> bytes | None:
        found = self.section(name)
        if found is None:
            return None
        _, offset, size = found
        if size > limit:
            raise ParseError(f"section {name} is {size} bytes, over the limit of {limit}")
        return self.data[offset : offset + size]

    def read(self, addr: int, size: int) -> bytes:
        """``size`` bytes at a virtual address (from the PT_LOAD segment holding it)."""
        for vaddr, offset, filesz, _ in self.loads:
            if vaddr <= addr and addr + size <= vaddr + filesz:
                start = offset + addr - vaddr
                chunk = self.data[start : start + size]
                if len(chunk) == size:
                    return chunk
        raise ParseError(f"address {addr:#x} is outside the file")
