package catalog

import "testing"

func TestLoads(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Localize("en", "request.neighbour", nil); got != "a neighbour" {
		t.Fatalf("en = %q", got)
	}
}
