"""The margin program min ||M||_* s.t. z_x^T M w >= 1: its forms, certificates and solver ladder."""
