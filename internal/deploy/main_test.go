package deploy_test

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestMain runs the engine tests with the garbage collector at an eighth of its default pace:
// they are CPU-bound (every call goes through the SDK and HTTP to ecslocal), their heap stays
// small, and collection took about a third of their CPU time at the default.
func TestMain(m *testing.M) {
	debug.SetGCPercent(800)
	os.Exit(m.Run())
}
