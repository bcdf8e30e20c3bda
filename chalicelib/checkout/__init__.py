"""Checkout: accept an order, place it in one DynamoDB transaction, email the customer."""
