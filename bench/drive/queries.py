"""The GraphQL documents the benchmarks send (the floor answers the page and the list alike)."""

from __future__ import annotations

# tests/graphql/test_customer_history.py CUSTOMER_PAGE: the profile and the first 20 of every tab.
CUSTOMER_PAGE = """
query Page($customerId: String!) {
  customer(customerId: $customerId) {
    id customerId name email mobile externalId optedIn tier pointsBalance
    points {
      redemptions(first: 20) { edges { node { redeemedAt pointsRedeemed pointsReversed orderId
        breakup { lotEarnedAt points expiresAt reason } } } }
      expirySchedule { expiresOn points }
      expired(first: 20) { edges { node { expiredAt points } } }
      tierHistory(first: 20) { edges { node { changedAt fromTier toTier reason } } }
      promotions(first: 20) { edges { node { actionId points reason } } }
      loyaltyTracker(first: 20) { edges { node { actionId points } } }
      transfers(first: 20) { edges { node { transferType transferId fromCustomerId toCustomerId
        program points } } }
      activity(first: 20) { edges { cursor node { occurredAt actionId actionName points
        runningBalance } }
        pageInfo { hasNextPage endCursor } }
    }
    coupons {
      issued(first: 20) { edges { node { couponId code status resendCount } } }
      redemptions(first: 20) { edges { node { couponId orderId redeemedAt } } }
    }
    transactions(first: 20) { edges { node { type orderId amount pointsEarned } } }
    interactions(first: 20) { edges { node { messageId channel status subject } } }
    behavioralEvents(first: 20) { edges { node { trackingId event tillCode attributes } } }
    leads(first: 20) { edges { node { leadId status subStatus extendedFields } } }
    segmentHistory(first: 20) { edges { node { segment fromPartition toPartition } } }
    identifierHistory(first: 20) { edges { node { identifierType value actionType source } } }
  }
}
"""

# One member and its last 20 activities: what a partner app's "my points" screen reads.
MEMBER_ACTIVITY = """
query MemberActivity($customerId: String!) {
  customer(customerId: $customerId) {
    id customerId name tier pointsBalance
    points { activity(first: 20) { edges { cursor node { occurredAt actionId actionName points
      runningBalance } } pageInfo { hasNextPage endCursor } } }
  }
}
"""

# A search as an agent types it: 50 members, each with three nested histories of 10.
CUSTOMER_LIST = """
query List($search: String!) {
  customers(search: $search, first: 50) {
    edges { cursor node {
      id customerId name email mobile tier pointsBalance
      points { activity(first: 10) { edges { node { occurredAt actionId actionName points
        runningBalance } } } }
      transactions(first: 10) { edges { node { occurredAt type orderId amount pointsEarned } } }
      interactions(first: 10) { edges { node { sentAt messageId channel status subject } } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
