package device

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const suitVectors = "../../shared/testdata/suit"

// TestNativeBoardAnswersTheDraft09ExamplesAsRIOT fetches each of the IETF
// drafts' draft-09 examples over real CoAP into a device on board native
// and expects the result index.json gives for RIOT's client: none targets
// native (they carry Arm's vendor id and an ES256 signature, which RIOT does
// not verify), so every one ends at the signature with RIOT's code.
func TestNativeBoardAnswersTheDraft09ExamplesAsRIOT(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(suitVectors, "index.json"))
	if err != nil {
		t.Skipf("the SUIT test vectors are not there (%v): ../shared/testdata/suit is needed", err)
	}
	var index struct {
		Vectors []struct {
			File     string `json:"file"`
			Expected struct {
				RIOT struct {
					Result string `json:"riot_result"`
				} `json:"riot_like_client"`
			} `json:"expected"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	native, err := LookupBoard("native")
	if err != nil {
		t.Fatal(err)
	}
	sr := newSuitRig(t, func(c *Config) { c.Board = native })
	n := 0
	for _, v := range index.Vectors {
		if !strings.HasPrefix(v.File, "draft-09/") {
			continue
		}
		n++
		env, err := os.ReadFile(filepath.Join(suitVectors, v.File))
		if err != nil {
			t.Fatal(err)
		}
		res := sr.update(sr.files.put("/"+v.File, env))
		if res.Result != v.Expected.RIOT.Result {
			t.Errorf("%s: %s (%d) %s, RIOT: %s", v.File, res.Result, res.Code, res.Message, v.Expected.RIOT.Result)
		}
	}
	if n == 0 {
		t.Fatal("index.json lists no draft-09 example")
	}
	if got := sr.d.Sequence("ram"); got != 0 {
		t.Fatalf("stored sequence number moved to %d", got)
	}
}
