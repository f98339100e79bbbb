package suit

import "github.com/google/uuid"

// vendorDomain is RIOT's default SUIT_VENDOR.
const vendorDomain = "riot-os.org"

// VendorID is RIOT's vendor id: UUID5(DNS, "riot-os.org") =
// 547d0d74-6d3a-5a92-9662-4881afd9407b.
func VendorID() uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceDNS, []byte(vendorDomain)) }

// ClassID is RIOT's class id for a board: UUID5(VendorID(), board), as
// sys/suit/conditions.c derives it from SUIT_CLASS_ID (the board name).
func ClassID(board string) uuid.UUID { return uuid.NewSHA1(VendorID(), []byte(board)) }
