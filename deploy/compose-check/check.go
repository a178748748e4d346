// Package composecheck loads the repository's docker compose deployment with the code Docker
// itself runs: compose-go v2 (the loader of `docker compose`), BuildKit's Dockerfile parser and
// linter (the code behind `docker build --check`), and the .dockerignore matcher of the Docker
// CLI and BuildKit (moby/patternmatcher). No Docker engine is needed; nothing is pulled.
package composecheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
)

// LoadOptions are the inputs of `docker compose config` that the checks vary.
type LoadOptions struct {
	// EnvFile: the project's .env as compose reads it; "" loads without any .env (a fresh
	// clone where someone deleted it, or a CI job that did not copy it).
	EnvFile string
	// Env: variables of the caller's shell, which override .env as in docker compose.
	Env map[string]string
	// Scale: `--scale service=n`.
	Scale map[string]int
}

// LoadProject loads dir/docker-compose.yml as `docker compose config` does: interpolation from
// .env and the environment, normalisation, consistency checks, paths resolved against dir.
func LoadProject(ctx context.Context, dir string, opts LoadOptions) (*types.Project, error) {
	env := make([]string, 0, len(opts.Env))
	for key, value := range opts.Env {
		env = append(env, key+"="+value)
	}
	sort.Strings(env)
	fns := []cli.ProjectOptionsFn{
		cli.WithName("stockmarket"),
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(env),
		cli.WithResolvedPaths(true),
		cli.WithDefaultProfiles(),
		cli.WithConsistency(true),
	}
	if opts.EnvFile != "" {
		fns = append(fns, cli.WithEnvFiles(opts.EnvFile), cli.WithDotEnv)
	}
	options, err := cli.NewProjectOptions([]string{filepath.Join(dir, "docker-compose.yml")}, fns...)
	if err != nil {
		return nil, err
	}
	project, err := options.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	// `docker compose up --scale name=n` (compose's applyScaleOpts).
	for name, n := range opts.Scale {
		service, ok := project.Services[name]
		if !ok {
			return nil, fmt.Errorf("--scale %s: no such service", name)
		}
		service.SetScale(n)
		project.Services[name] = service
	}
	return project, nil
}

// LintDockerfile runs BuildKit's linter over a Dockerfile as `docker build --check` does, with
// the `# check=` directive of the file. Base images are not fetched: an offline resolver answers
// with a minimal Linux image config, which is all the rules need.
func LintDockerfile(ctx context.Context, path string, target string) ([]string, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var opt dockerfile2llb.ConvertOpt
	opt.Target = target
	opt.MetaResolver = offlineResolver{}
	opt.SourceMap = llb.NewSourceMap(nil, filepath.Base(path), "Dockerfile", dt)
	opt.SourceMap.Definition = &llb.Definition{}
	results, err := dockerfile2llb.DockerfileLint(ctx, dt, opt)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, warning := range results.Warnings {
		line := 0
		if len(warning.Location.Ranges) > 0 {
			line = int(warning.Location.Ranges[0].Start.Line)
		}
		problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", filepath.Base(path), line, warning.RuleName, warning.Detail))
	}
	if results.Error != nil {
		problems = append(problems, fmt.Sprintf("%s: build error: %s", filepath.Base(path), results.Error.Message))
	}
	return problems, nil
}

// CheckDirective returns the `# check=` directive of a Dockerfile ("" when none).
func CheckDirective(path string) (string, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	value, _, _, _ := parser.ParseDirective("check", dt)
	if _, err := linter.ParseLintOptions(value); err != nil {
		return "", err
	}
	return value, nil
}

// ContextProblems checks that every COPY/ADD source from the build context (not --from a
// stage) of a Dockerfile exists under contextDir and is not excluded by contextDir/.dockerignore,
// read and matched with the Docker CLI's and BuildKit's own code; and that a copied directory
// still sends at least one file.
func ContextProblems(contextDir, dockerfile string) ([]string, error) {
	ignore, err := readIgnore(contextDir)
	if err != nil {
		return nil, err
	}
	return ContextProblemsWith(contextDir, dockerfile, ignore)
}

// ContextProblemsWith is ContextProblems with the .dockerignore patterns given.
func ContextProblemsWith(contextDir, dockerfile string, ignore []string) ([]string, error) {
	matcher, err := patternmatcher.New(ignore)
	if err != nil {
		return nil, err
	}
	sources, err := contextSources(dockerfile)
	if err != nil {
		return nil, err
	}
	var problems []string
	for _, source := range sources {
		clean := filepath.ToSlash(filepath.Clean(source))
		info, err := os.Stat(filepath.Join(contextDir, clean))
		if err != nil {
			problems = append(problems, fmt.Sprintf("COPY %s: not in the build context: %v", source, err))
			continue
		}
		excluded, err := matcher.MatchesOrParentMatches(clean)
		if err != nil {
			return nil, err
		}
		if excluded {
			problems = append(problems, fmt.Sprintf("COPY %s: excluded by .dockerignore", source))
			continue
		}
		if info.IsDir() {
			sent, err := filesSent(contextDir, clean, matcher)
			if err != nil {
				return nil, err
			}
			if sent == 0 {
				problems = append(problems, fmt.Sprintf("COPY %s: every file in it is excluded by .dockerignore", source))
			}
		}
	}
	return problems, nil
}

// Sent reports whether a path (relative to the context) is sent with the build context.
func Sent(contextDir, path string) (bool, error) {
	ignore, err := readIgnore(contextDir)
	if err != nil {
		return false, err
	}
	matcher, err := patternmatcher.New(ignore)
	if err != nil {
		return false, err
	}
	excluded, err := matcher.MatchesOrParentMatches(filepath.ToSlash(path))
	return !excluded, err
}

func readIgnore(contextDir string) ([]string, error) {
	f, err := os.Open(filepath.Join(contextDir, ".dockerignore"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ignorefile.ReadAll(f)
}

func filesSent(contextDir, dir string, matcher *patternmatcher.PatternMatcher) (int, error) {
	count := 0
	err := filepath.WalkDir(filepath.Join(contextDir, dir), func(path string, entry os.DirEntry, err error) error {
		if err != nil || entry.IsDir() {
			return err
		}
		rel, err := filepath.Rel(contextDir, path)
		if err != nil {
			return err
		}
		excluded, err := matcher.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		if !excluded {
			count++
		}
		return nil
	})
	return count, err
}

// contextSources lists the sources of COPY and ADD instructions that read the build context.
func contextSources(dockerfile string) ([]string, error) {
	f, err := os.Open(dockerfile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ast, err := parser.Parse(f)
	if err != nil {
		return nil, err
	}
	stages, _, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return nil, err
	}
	var sources []string
	for _, stage := range stages {
		for _, command := range stage.Commands {
			switch c := command.(type) {
			case *instructions.CopyCommand:
				if c.From == "" {
					sources = append(sources, c.SourcePaths...)
				}
			case *instructions.AddCommand:
				sources = append(sources, c.SourcePaths...)
			}
		}
	}
	return sources, nil
}

// offlineResolver answers BuildKit's base-image lookups without a registry.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	arch := "amd64"
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		arch = opt.ImageOpt.Platform.Architecture
	}
	config := map[string]any{
		"os":           "linux",
		"architecture": arch,
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + strings.Repeat("0", 64)}},
	}
	dt, err := json.Marshal(config)
	return ref, "", dt, err
}
