package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// Clients is the bundle of AWS clients that the provider hands to every resource and data source.
type Clients struct {
	// ECS calls the Amazon ECS API.
	ECS *ecs.Client
	// AutoScaling calls the Application Auto Scaling API (ECS Service Auto Scaling).
	AutoScaling *applicationautoscaling.Client
	// ELB calls the Elastic Load Balancing v2 API, to read the target health of services
	// behind a load balancer.
	ELB *elasticloadbalancingv2.Client
	// CloudWatch calls the Amazon CloudWatch API, to read the alarms and metrics of the
	// analysis gates.
	CloudWatch *cloudwatch.Client
	// Region is the AWS Region the clients call, as resolved from the configuration and environment.
	Region string
}

// DefaultMaxRetries is how many times a call is retried when neither max_retries nor
// AWS_MAX_ATTEMPTS says otherwise (terraform-provider-aws uses 25 as well).
const DefaultMaxRetries = 25

// clientConfig is the provider configuration as plain Go values; "" and nil mean "not set, let the
// AWS SDK decide".
type clientConfig struct {
	Region                 string
	Profile                string
	SharedConfigFiles      []string
	SharedCredentialsFiles []string
	// MaxRetries is the number of retries after the first attempt; nil means AWS_MAX_ATTEMPTS
	// when set, else DefaultMaxRetries.
	MaxRetries *int
	AssumeRole *assumeRoleConfig
	Endpoints  endpointsConfig
}

// assumeRoleConfig is the assume_role block as plain Go values.
type assumeRoleConfig struct {
	RoleARN     string
	SessionName string
	ExternalID  string
}

// endpointsConfig is the endpoints block as plain Go values.
type endpointsConfig struct {
	ECS                    string
	ApplicationAutoscaling string
	CloudWatch             string
	ELBv2                  string
}

// errNoRegion is returned by newClients when neither the configuration nor the environment names
// an AWS Region.
var errNoRegion = errors.New("no AWS Region in the provider configuration, AWS_REGION, AWS_DEFAULT_REGION or the shared config profile")

// loadConfigError wraps a failure of the AWS SDK to load its configuration.
type loadConfigError struct{ err error }

func (e *loadConfigError) Error() string { return "loading AWS configuration: " + e.err.Error() }
func (e *loadConfigError) Unwrap() error { return e.err }

// newClients loads the AWS configuration the way the AWS CLI does, with the provider's settings
// layered on top, and builds the client bundle. It makes no network call: credentials, including
// an assumed role's, are fetched on the first API call.
func newClients(ctx context.Context, cfg clientConfig) (*Clients, error) {
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if len(cfg.SharedConfigFiles) > 0 {
		files, err := expandHomeAll(cfg.SharedConfigFiles)
		if err != nil {
			return nil, &loadConfigError{err}
		}
		opts = append(opts, config.WithSharedConfigFiles(files))
	}
	if len(cfg.SharedCredentialsFiles) > 0 {
		files, err := expandHomeAll(cfg.SharedCredentialsFiles)
		if err != nil {
			return nil, &loadConfigError{err}
		}
		opts = append(opts, config.WithSharedCredentialsFiles(files))
	}
	// Throttling is routine for a rollout that polls, and for many rollouts in one apply: retry
	// it generously, and without the SDK's client-side retry quota, which runs dry under
	// sustained throttling and then fails calls that a retry would have carried.
	attempts := DefaultMaxRetries + 1
	if n, err := strconv.Atoi(os.Getenv("AWS_MAX_ATTEMPTS")); err == nil && n > 0 {
		attempts = n
	}
	if cfg.MaxRetries != nil {
		// The SDK counts attempts, the first call included; users count retries.
		attempts = *cfg.MaxRetries + 1
	}
	opts = append(opts, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.RateLimiter = ratelimit.None
		})
	}))

	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &loadConfigError{err}
	}
	if awsCfg.Region == "" {
		return nil, errNoRegion
	}

	if role := cfg.AssumeRole; role != nil {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(awsCfg), role.RoleARN,
			func(o *stscreds.AssumeRoleOptions) {
				if role.SessionName != "" {
					o.RoleSessionName = role.SessionName
				}
				if role.ExternalID != "" {
					o.ExternalID = aws.String(role.ExternalID)
				}
			})
		awsCfg.Credentials = aws.NewCredentialsCache(provider)
	}

	// An endpoint left unset keeps what the SDK resolved on its own: AWS_ENDPOINT_URL_ECS and
	// friends, services' endpoint_url in the shared config, or the public endpoint.
	return &Clients{
		ECS: ecs.NewFromConfig(awsCfg, func(o *ecs.Options) {
			if url := cfg.Endpoints.ECS; url != "" {
				o.BaseEndpoint = aws.String(url)
			}
		}),
		AutoScaling: applicationautoscaling.NewFromConfig(awsCfg, func(o *applicationautoscaling.Options) {
			if url := cfg.Endpoints.ApplicationAutoscaling; url != "" {
				o.BaseEndpoint = aws.String(url)
			}
		}),
		ELB: elasticloadbalancingv2.NewFromConfig(awsCfg, func(o *elasticloadbalancingv2.Options) {
			if url := cfg.Endpoints.ELBv2; url != "" {
				o.BaseEndpoint = aws.String(url)
			}
		}),
		CloudWatch: cloudwatch.NewFromConfig(awsCfg, func(o *cloudwatch.Options) {
			if url := cfg.Endpoints.CloudWatch; url != "" {
				o.BaseEndpoint = aws.String(url)
			}
		}),
		Region: awsCfg.Region,
	}, nil
}

// expandHomeAll replaces a leading "~/" in each path by the user's home directory, as the AWS CLI
// does; the SDK itself opens paths as written.
func expandHomeAll(paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		if p != "~" && !strings.HasPrefix(p, "~/") {
			out = append(out, p)
			continue
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("expanding %s: %w", p, err)
		}
		out = append(out, filepath.Join(home, strings.TrimPrefix(p, "~")))
	}
	return out, nil
}

// addClientsError turns an error of newClients into a diagnostic a user can act on.
func addClientsError(diags *diag.Diagnostics, err error) {
	var loadErr *loadConfigError
	switch {
	case errors.Is(err, errNoRegion):
		addError(diags, "Missing AWS Region",
			"The provider could not determine which AWS Region to use. Set region in the provider block, "+
				"or set AWS_REGION, or select a shared config profile that has a region.", err)
	case errors.As(err, &loadErr):
		addError(diags, "Unable to Load AWS Configuration",
			"The provider could not load the AWS configuration from its settings, the environment and the "+
				"shared config and credentials files. Check the profile and file names.", loadErr.err)
	default:
		addError(diags, "Unable to Create AWS Clients",
			"The provider could not create its AWS clients.", err)
	}
}
