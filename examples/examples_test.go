// Package examples holds the Terraform configurations that the documentation shows and that
// users copy. Its test keeps every one of them formatted and valid against the provider's
// current schema, offline: the provider is built from this repository and installed through a
// dev_overrides CLI configuration, so Terraform contacts no registry.
package examples

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// devOverridesWarning is the summary of the warning Terraform prints whenever dev_overrides
// are in effect; it is the one diagnostic an example may produce.
const devOverridesWarning = "Provider development overrides are in effect"

// requiredProviders is added next to snippets that do not declare the provider themselves
// (resource.tf and data-source.tf are rendered into the docs without a terraform block).
const requiredProviders = `terraform {
  required_providers {
    ecs = {
      source = "phased-ecs/ecs"
    }
  }
}
`

var (
	declaresProviders = regexp.MustCompile(`(?m)^\s*required_providers\s*\{`)
	providerAlias     = regexp.MustCompile(`(?m)^\s*alias\s*=\s*"([A-Za-z0-9_-]+)"`)
)

// providerUse makes Terraform validate a provider configuration: `terraform validate` skips
// provider blocks that nothing uses, such as those of examples/provider.
func providerUse(alias string) string {
	if alias == "" {
		return "data \"ecs_cluster\" \"zz_validate_provider\" {\n  name = \"validate\"\n}\n"
	}
	return "data \"ecs_cluster\" \"zz_validate_provider_" + alias + "\" {\n  provider = ecs." + alias + "\n  name     = \"validate\"\n}\n"
}

// TestExamples runs `terraform fmt -check` over examples/ and `terraform validate` in every
// directory below it that holds .tf files.
func TestExamples(t *testing.T) {
	terraform := terraformCLI(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dirs := exampleDirs(t, ".")
	if len(dirs) == 0 {
		t.Fatal("no directory under examples/ holds .tf files")
	}
	cliConfig := devOverridesConfig(t, buildProvider(t, root))

	t.Run("fmt", func(t *testing.T) {
		out, err := run(t, terraform, cliConfig, ".", "fmt", "-check", "-diff", "-recursive", "-no-color")
		if err != nil {
			t.Fatalf("terraform fmt -check -recursive examples/ failed (run `terraform fmt -recursive examples` to fix): %v\n%s", err, out)
		}
	})
	for _, dir := range dirs {
		t.Run(filepath.ToSlash(dir), func(t *testing.T) {
			validate(t, terraform, cliConfig, dir)
		})
	}
}

// TestImportExamples checks that every import.sh holds only comments and terraform import
// commands, since tfplugindocs renders it as the resource's import section.
func TestImportExamples(t *testing.T) {
	files, err := filepath.Glob("resources/*/import.sh")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples/resources/*/import.sh")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		resource := "terraform import " + filepath.Base(filepath.Dir(f)) + "."
		commands := 0
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, "#"):
			case strings.HasPrefix(line, resource):
				commands++
			default:
				t.Errorf("%s:%d: want a comment or %q…, got %q", f, i+1, resource, line)
			}
		}
		if commands == 0 {
			t.Errorf("%s has no %q command", f, resource)
		}
	}
}

// terraformCLI returns the Terraform binary of the acceptance tests, or skips the test.
func terraformCLI(t *testing.T) string {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("TF_ACC is not set: the examples are validated with the Terraform CLI in acceptance runs only (make test sets TF_ACC=1 and builds bin/terraform)")
	}
	path := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if path == "" {
		path = filepath.Join("..", "bin", "terraform")
	}
	path, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no Terraform CLI at %s (make tools builds bin/terraform): %v", path, err)
	}
	return path
}

// exampleDirs lists the directories under root that contain .tf files, root excluded.
func exampleDirs(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".terraform" || strings.HasPrefix(d.Name(), ".") && p != root) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".tf") {
			if dir := filepath.Dir(p); dir != root && !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// buildProvider builds this repository's provider into a fresh directory and returns it.
func buildProvider(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", filepath.Join(dir, "terraform-provider-ecs"), ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	return dir
}

// devOverridesConfig writes a CLI configuration that serves phased-ecs/ecs from pluginDir, so
// that `terraform validate` works without `terraform init` and without a registry.
func devOverridesConfig(t *testing.T, pluginDir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "terraformrc")
	config := "provider_installation {\n  dev_overrides {\n    \"phased-ecs/ecs\" = " + strconv.Quote(pluginDir) + "\n  }\n  direct {}\n}\n"
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// validate copies an example's .tf files into a scratch directory, adds a required_providers
// block when the example is a snippet without one and a data source per provider
// configuration, and runs terraform validate there. The example's own directory is left as it
// was: no .terraform, no lock file.
func validate(t *testing.T, terraform, cliConfig, dir string) {
	t.Helper()
	work := t.TempDir()
	files, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		t.Fatal(err)
	}
	declared := false
	uses := providerUse("")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		declared = declared || declaresProviders.Match(b)
		for _, m := range providerAlias.FindAllSubmatch(b, -1) {
			uses += providerUse(string(m[1]))
		}
		if err := os.WriteFile(filepath.Join(work, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !declared {
		uses = requiredProviders + uses
	}
	if err := os.WriteFile(filepath.Join(work, "zz_validate.tf"), []byte(uses), 0o600); err != nil {
		t.Fatal(err)
	}

	out, runErr := run(t, terraform, cliConfig, work, "validate", "-json", "-no-color")
	var result struct {
		Valid       bool `json:"valid"`
		Diagnostics []struct {
			Severity string `json:"severity"`
			Summary  string `json:"summary"`
			Detail   string `json:"detail"`
		} `json:"diagnostics"`
	}
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("terraform validate in %s: %v; output:\n%s", dir, runErr, out)
	}
	for _, d := range result.Diagnostics {
		if d.Severity == "warning" && d.Summary == devOverridesWarning {
			continue
		}
		t.Errorf("%s: %s: %s\n%s", dir, d.Severity, d.Summary, d.Detail)
	}
	if !result.Valid || runErr != nil {
		t.Errorf("terraform validate: %s is not valid (%v)", dir, runErr)
	}
}

// run runs the Terraform CLI offline in dir and returns its standard output.
func run(t *testing.T, terraform, cliConfig, dir string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), terraform, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"CHECKPOINT_DISABLE=1",
		"TF_IN_AUTOMATION=1",
		"TF_LOG=",
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && stderr.Len() > 0 {
		out = append(out, stderr.String()...)
	}
	return out, err
}
