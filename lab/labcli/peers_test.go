package labcli

import (
	"strings"
	"testing"

	"tinylab/device"
)

func TestParsePeers(t *testing.T) {
	peers, err := ParsePeers([]string{"t=temp", "hr=heart-rate:walk@1", "reps=counter:counter"}, []string{"display=display@3", "led=led"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		id    uint32
		class device.Class
		model device.ModelKind
	}{
		{"t", 2, device.ClassTemperature, device.ModelScript},
		{"hr", 1, device.ClassHeartRate, device.ModelWalk},
		{"reps", 4, device.ClassCounter, device.ModelCounter},
		{"display", 3, device.ClassDisplay, device.ModelScript},
		{"led", 5, device.ClassLED, device.ModelScript},
	}
	if len(peers) != len(want) {
		t.Fatalf("%d peers: %+v", len(peers), peers)
	}
	for i, w := range want {
		p := peers[i]
		if p.Name != w.name || p.ID != w.id || p.Class != w.class || p.Model != w.model {
			t.Errorf("peer %d = %+v, want %+v", i, p, w)
		}
	}
	if hr := peers[1]; hr.Min != 60 || hr.Max != 180 || hr.Start != 70 {
		t.Errorf("a heart-rate walk wanders in %v..%v from %v", hr.Min, hr.Max, hr.Start)
	}
	for _, tc := range []struct {
		sensors, actuators []string
		want               string
	}{
		{[]string{"hr"}, nil, "no NAME=CLASS"},
		{[]string{"hr=heart-rate@0"}, nil, "the id must be a number from 1"},
		{[]string{"a=temp@2", "b=hum@2"}, nil, "id 2 is taken"},
		{[]string{"a=temp", "a=hum"}, nil, "two peers named a"},
		{nil, []string{"d=display:walk"}, "an actuator has no model"},
		{nil, []string{"d=temp"}, "temp is a sensor; use --sensor"},
		{[]string{"x=wind"}, nil, `unknown peer class "wind"`},
	} {
		_, err := ParsePeers(tc.sensors, tc.actuators)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want %q", tc.sensors, tc.actuators, err, tc.want)
		}
	}
}
