"""crmcore.loyalty"""
