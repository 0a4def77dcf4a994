"""Communities of each topic's repost+quote graph over the network window (`community_members`): size,
internal edges, top accounts, hashtags and domains, mean sentiment and risk of their internal edge posts,
and for each topic's two largest communities the stance contrast (sentiment gap, hashtag Jaccard,
`opposed_camps`). Only communities of at least `network_min_community_size` accounts, the
`network_max_communities` largest per topic. Code: `discourse.transform.network_graph`; docs/network.md.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from discourse.transform.network_graph import NetworkParams, communities

    # dbt passes a Python model only the config keys it sees read literally, one call each
    config = {
        "network_window_days": dbt.config.get("network_window_days"),
        "network_seed": dbt.config.get("network_seed"),
        "network_max_edges": dbt.config.get("network_max_edges"),
        "network_min_community_size": dbt.config.get("network_min_community_size"),
        "network_max_communities": dbt.config.get("network_max_communities"),
        "network_stance_min_gap": dbt.config.get("network_stance_min_gap"),
        "network_stance_max_overlap": dbt.config.get("network_stance_max_overlap"),
        "network_stance_min_edges": dbt.config.get("network_stance_min_edges"),
    }
    params = NetworkParams.from_config(config.get)
    return communities(session, dbt.ref("int_post_edges"), dbt.ref("community_members"), params)
