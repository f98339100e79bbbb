package device

import (
	"fmt"
	"slices"
	"strings"
)

// Board is a virtual board's hardware profile: what the audience sees as the
// RAM and flash budget, and what limits the containers it can hold.
type Board struct {
	Name string // RIOT board name, as /riot/board answers it
	MCU  string
	// Flash and RAM of the chip, and the share the base firmware (RIOT,
	// TinyContainer, the VM, SUIT and CoAP) takes of each.
	FlashKiB, RAMKiB                 int
	FirmwareFlashKiB, FirmwareRAMKiB int
	// Container slots: how many, and how many bytes of code plus data each
	// holds (metadata apart, as TinyContainer's memory manager does).
	Slots     int
	SlotBytes int
	// RAMSlotBytes is the size of each of RIOT's SUIT RAM slots .ram.0 and .ram.1.
	RAMSlotBytes int
}

// The boards tinylab models. The firmware shares are what a RIOT build with
// TinyContainer, femto-containers, SUIT and gcoap takes on each chip.
var boards = []Board{
	{Name: "nrf52dk", MCU: "nRF52832", FlashKiB: 512, RAMKiB: 64, FirmwareFlashKiB: 168, FirmwareRAMKiB: 28, Slots: 4, SlotBytes: 16 << 10, RAMSlotBytes: 4 << 10},
	{Name: "nrf52840dk", MCU: "nRF52840", FlashKiB: 1024, RAMKiB: 256, FirmwareFlashKiB: 184, FirmwareRAMKiB: 36, Slots: 8, SlotBytes: 32 << 10, RAMSlotBytes: 16 << 10},
	{Name: "dwm1001", MCU: "nRF52832", FlashKiB: 512, RAMKiB: 64, FirmwareFlashKiB: 176, FirmwareRAMKiB: 30, Slots: 4, SlotBytes: 16 << 10, RAMSlotBytes: 4 << 10},
	// RIOT's native board, a Linux process every RIOT developer runs the
	// SUIT demo on: flash is its MTD emulation (MTD_SECTOR_NUM 2048 sectors
	// of 4 KiB, boards/native/include/board.h), RAM has no chip limit (1 MiB
	// is what the UI measures against), and the RAM slots are the two 2 KiB
	// regions examples/suit_update configures for native
	// (CONFIG_SUIT_STORAGE_RAM_REGIONS=2, CONFIG_SUIT_STORAGE_RAM_SIZE=2048).
	{Name: "native", MCU: "native (Linux process)", FlashKiB: 8192, RAMKiB: 1024, FirmwareFlashKiB: 256, FirmwareRAMKiB: 64, Slots: 8, SlotBytes: 32 << 10, RAMSlotBytes: 2048},
}

// DefaultBoard is TinyContainer's default board.
const DefaultBoard = "dwm1001"

// LookupBoard returns the profile of a board by its RIOT name.
func LookupBoard(name string) (Board, error) {
	for _, b := range boards {
		if b.Name == name {
			return b, nil
		}
	}
	return Board{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownBoard, name, strings.Join(BoardNames(), ", "))
}

// BoardNames lists the modelled boards, sorted.
func BoardNames() []string {
	names := make([]string, len(boards))
	for i, b := range boards {
		names[i] = b.Name
	}
	slices.Sort(names)
	return names
}

func (b Board) String() string { return b.Name + " (" + b.MCU + ")" }
