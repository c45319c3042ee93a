package collect

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/account/types"

	"github.com/coffer-audit/coffer/checks/awsclient"
)

// accountAPI is the part of Account Management the collector uses.
type accountAPI interface {
	ListRegions(ctx context.Context, in *account.ListRegionsInput, optFns ...func(*account.Options)) (*account.ListRegionsOutput, error)
}

var _ accountAPI = (*account.Client)(nil)

// enabledRegions lists the regions enabled for the account (opted in or enabled by default).
func (c *collector) enabledRegions(ctx context.Context) ([]string, error) {
	var api accountAPI = awsclient.NewAccount(c.cfg, c.home, c.opts.Options)
	p := account.NewListRegionsPaginator(api, &account.ListRegionsInput{
		RegionOptStatusContains: []types.RegionOptStatus{types.RegionOptStatusEnabled, types.RegionOptStatusEnabledByDefault},
	})
	var out []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list regions: %w", err)
		}
		for _, r := range page.Regions {
			if r.RegionName != nil {
				out = append(out, *r.RegionName)
			}
		}
	}
	return out, nil
}
